using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.ServiceDefaults.Tests.Support;

/// <summary>
/// A real HTTP backend on a free loopback port whose answer the test scripts. It counts every request
/// that reaches it, so a test can tell how many attempts a client really made.
/// </summary>
internal sealed class LocalServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _hits;

    private LocalServer(WebApplication app, Func<HttpContext, int, Task> handler)
    {
        _app = app;
        Handler = handler;
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>Requests received so far.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Answers a request; the second argument is its 1-based number.</summary>
    public Func<HttpContext, int, Task> Handler { get; set; }

    public static async Task<LocalServer> StartAsync(Func<HttpContext, int, Task>? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new LocalServer(app, handler ?? ((context, _) => context.Response.WriteAsync("ok", context.RequestAborted)));
        app.Run(context => server.Handler(context, Interlocked.Increment(ref server._hits)));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        server.Address = ServiceHost.BoundAddress(app);
        return server;
    }

    /// <summary>Answers with <paramref name="status"/> and the request number as the body.</summary>
    public static Task Respond(HttpContext context, int status, int attempt)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsync($"attempt {attempt}", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
