using VoiceKraliki.Gateway.Ops;
using VoiceKraliki.Gateway.Proxy;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGateway();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseRequestBodyLimits();
app.MapOperatorConsole();
app.MapGatewayProxy();

app.Run();

public partial class Program;
