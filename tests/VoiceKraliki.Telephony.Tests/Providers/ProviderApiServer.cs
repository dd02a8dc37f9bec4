using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Telephony.Tests.Providers;

/// <summary>One request as it reached the stand-in provider.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? Authorization, string? ContentType, string Body);

/// <summary>A scripted answer: status, JSON body, extra headers.</summary>
internal sealed record ScriptedAnswer(int Status, string Body = "", IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>How long to wait before answering (a provider that hangs).</summary>
    public TimeSpan Delay { get; init; }
}

/// <summary>
/// A real Kestrel server on a free loopback port standing in for a provider's REST API. It records every request
/// exactly as it arrived and answers with what the test scripted.
/// </summary>
internal sealed class ProviderApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private ProviderApiServer(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>The base URL as an options value (no trailing slash).</summary>
    public string BaseUrl => Address.GetLeftPart(UriPartial.Authority);

    public ScriptedAnswer Answer { get; set; } = new(200, "{}");

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public RecordedRequest Single() => Assert.Single(Requests);

    public static async Task<ProviderApiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ProviderApiServer(app);
        app.Run(server.HandleAsync);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        server.Address = new Uri(addresses.Single());
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        _requests.Enqueue(new RecordedRequest(
            context.Request.Method,
            // The target exactly as sent, escapes and all (Request.Path would decode them).
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
            context.Request.ContentType,
            body));

        var answer = Answer;
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted);
        }

        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (answer.Body.Length > 0)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
