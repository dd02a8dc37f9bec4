using System.Globalization;
using System.Text;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Dashboard;

/// <summary>
/// The console of <c>dotnet run</c>: a status table redrawn in place on a terminal (a line per change
/// otherwise), error lines of every process prefixed with its name, and the credentials banner.
/// </summary>
internal sealed class ConsoleDashboard : IAsyncDisposable
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);

    private readonly DistributedApplication _app;
    private readonly TimeProvider _time;
    private readonly bool _interactive;
    private readonly Lock _lock = new();
    private readonly List<string> _pending = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _renderLoop = Task.CompletedTask;
    private int _tableLines;
    private bool _dirty = true;

    public ConsoleDashboard(DistributedApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
        _interactive = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";
        _app.ResourceStateChanged += OnStateChanged;
        _app.ErrorLine += OnErrorLine;
    }

    public void PrintBanner()
    {
        foreach (var line in Banner.Lines(_app))
        {
            WriteLine(line);
        }
    }

    public void Start()
    {
        if (_interactive)
        {
            _renderLoop = RenderLoopAsync(_stop.Token);
        }
    }

    public void ReportAllHealthy(int resources, TimeSpan duration)
    {
        var gateway = _app.GatewayEndpoint is { } url ? $" Gateway: {url.GetLeftPart(UriPartial.Authority)}" : "";
        WriteLine($"All {resources} resources healthy in {duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.{gateway}");
    }

    public void WriteLine(string text)
    {
        lock (_lock)
        {
            if (_interactive)
            {
                _pending.Add(text);
                _dirty = true;
            }
            else
            {
                Console.Out.WriteLine(text);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _app.ResourceStateChanged -= OnStateChanged;
        _app.ErrorLine -= OnErrorLine;
        await _stop.CancelAsync();
        await _renderLoop;
        if (_interactive)
        {
            Render();
        }

        _stop.Dispose();
    }

    private void OnStateChanged(ResourceSnapshot snapshot)
    {
        if (_interactive)
        {
            lock (_lock)
            {
                _dirty = true;
            }

            return;
        }

        WriteLine(StatusTable.FormatChange(snapshot, _time.GetLocalNow()));
    }

    private void OnErrorLine(string label, string line) => WriteLine($"[{label}] {line}");

    private async Task RenderLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RedrawInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                Render();
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private void Render()
    {
        lock (_lock)
        {
            if (!_dirty)
            {
                return;
            }

            _dirty = false;
            var width = SafeWidth();
            var output = new StringBuilder();
            if (_tableLines > 0)
            {
                // Back to the table's first line, and clear from there down.
                output.Append(CultureInfo.InvariantCulture, $"\u001b[{_tableLines}A\r\u001b[J");
            }

            foreach (var line in _pending)
            {
                output.AppendLine(line);
            }

            _pending.Clear();
            var table = StatusTable.Render(_app.GetResources(), width);
            foreach (var line in table)
            {
                output.AppendLine(line);
            }

            _tableLines = table.Count;
            Console.Out.Write(output.ToString());
            Console.Out.Flush();
        }
    }

    private static int SafeWidth()
    {
        try
        {
            // 0 when the terminal does not say (e.g. a pty without a size).
            var width = Console.WindowWidth;
            return width <= 0 ? 160 : Math.Max(width, 40);
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
