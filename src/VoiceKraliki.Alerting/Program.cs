using VoiceKraliki.Alerting.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceInfoApi("/api/alerts");

app.Run();

public partial class Program;
