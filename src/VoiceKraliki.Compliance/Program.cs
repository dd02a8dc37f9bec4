using VoiceKraliki.Compliance.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapServiceInfoApi("/api/compliance");

app.Run();

public partial class Program;
