using VoiceKraliki.CallState.Apis;
using VoiceKraliki.CallState.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceInfoApi("/api/calls", "/api/campaigns", "/api/flows");
app.MapOpenApi().AllowAnonymous();
app.MapCallsApi();

app.Run();

public partial class Program;
