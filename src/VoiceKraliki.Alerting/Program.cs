using VoiceKraliki.Alerting.Apis;
using VoiceKraliki.Alerting.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceInfoApi("/api/alerts");
app.MapAlertsApi();
app.MapRulesApi();
app.MapSilencesApi();
app.MapChannelsApi();
app.MapSignalsApi();

app.Run();

public partial class Program;
