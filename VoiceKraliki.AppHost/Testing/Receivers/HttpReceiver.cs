using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.AppHost.Testing.Receivers;

/// <summary>One request as the receiver saw it; <see cref="Timestamp"/> is <see cref="Stopwatch.GetTimestamp"/> on arrival.</summary>
public sealed record ReceivedRequest(int Number, string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, long Timestamp)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>What the receiver answers to one request.</summary>
public sealed record ScriptedAnswer(int Status, string Body = "", IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    public static ScriptedAnswer Ok { get; } = new(200, "ok");
}

/// <summary>
/// A real HTTP receiver (Kestrel on a free loopback port) standing in for Slack, PagerDuty or a webhook: it records
/// every request and answers as the test scripts, by request number.
/// </summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private int _count;

    private HttpReceiver(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>Answers request n (1-based); 200 "ok" unless told otherwise.</summary>
    public Func<int, ScriptedAnswer> Script { get; set; } = _ => ScriptedAnswer.Ok;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests.OrderBy(r => r.Number)];

    public int Count => Volatile.Read(ref _count);

    public static async Task<HttpReceiver> StartAsync(Func<int, ScriptedAnswer>? script = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new HttpReceiver(app);
        if (script is not null)
        {
            receiver.Script = script;
        }

        app.Run(receiver.HandleAsync);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        receiver.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return receiver;
    }

    public Uri Url(string pathAndQuery) => new(Address, pathAndQuery);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = Stopwatch.GetTimestamp();
        var number = Interlocked.Increment(ref _count);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        _requests.Enqueue(new ReceivedRequest(
            number,
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            body,
            arrived));

        var answer = Script(number);
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted);
        }

        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(answer.Body, context.RequestAborted);
    }
}
