using VoiceKraliki.Compliance.Apis;
using VoiceKraliki.Compliance.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceInfoApi("/api/compliance");
app.MapConsentApi();
app.MapDecisionsApi();
app.MapPoliciesApi();
app.MapRequestsApi();
app.MapRetentionApi();
app.MapAuditApi();

app.Run();

public partial class Program;
