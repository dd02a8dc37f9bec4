using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Simulator.Tests.Support;

/// <summary>A webhook as it arrived: the URL it was sent to, its headers and its raw body.</summary>
internal sealed record ReceivedWebhook(string Url, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : string.Empty;
}

/// <summary>A real Kestrel endpoint on loopback that records every POST and answers with the queued statuses, then 200.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly ConcurrentQueue<int> _statuses = new();
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = string.Empty;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var url = $"{receiver.BaseUrl}{http.Request.Path}{http.Request.QueryString}";
            var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            await receiver._received.Writer.WriteAsync(new ReceivedWebhook(url, headers, buffer.ToArray()));
            http.Response.StatusCode = receiver._statuses.TryDequeue(out var status) ? status : 200;
        });
        await app.StartAsync();
        receiver._app = app;
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    /// <summary>The next requests are answered with these statuses, in order.</summary>
    public void RespondWith(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _statuses.Enqueue(status);
        }
    }

    public async Task<IReadOnlyList<ReceivedWebhook>> TakeAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var list = new List<ReceivedWebhook>();
        while (list.Count < count)
        {
            list.Add(await _received.Reader.ReadAsync(timeout.Token));
        }

        return list;
    }

    /// <summary>True when nothing more arrives within a short real-time wait.</summary>
    public async Task<bool> StaysQuietAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        return !_received.Reader.TryPeek(out _);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
