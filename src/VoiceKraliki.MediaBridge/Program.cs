using VoiceKraliki.MediaBridge.Apis;
using VoiceKraliki.MediaBridge.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseWebSockets();
app.MapMediaStreamApi();

app.Run();

public partial class Program;
