extern alias apphost;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Audio;
using VoiceKraliki.Telephony.Media;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.Benchmarks;

/// <summary>
/// How many concurrent real-time media streams one media-bridge instance sustains with its frame handling p99 under
/// 5 ms: <c>dotnet run -c Release --project benchmarks/VoiceKraliki.Benchmarks -- media-stream-capacity
/// [--streams 10,25,50,...] [--seconds 20]</c>.
/// </summary>
/// <remarks>
/// Not a BenchmarkDotNet benchmark: a sustained load in steps of increasing N. On the real RabbitMQ the AppHost starts
/// (InfrastructureOnly), the real media-bridge runs as its own process (its built dll, Production, its own
/// runtimeconfig: server GC) on a loopback port, recording every stream (<c>Recording:Policy=Allow</c>, WAVs in a temp
/// folder). A separate process, so that its CPU is measured apart from the client's and the client's GC never pauses
/// it; both still share this machine's cores. Per step, N Twilio Media Stream clients connect, <c>start</c> with a
/// stream token, send 20 ms μ-law frames on an absolute schedule for the step's seconds (four sleeping threads drive all
/// clients, phases spread over the 20 ms), then <c>stop</c>. media-bridge's own <c>/metrics</c> is scraped before
/// and after: the frame-handling percentiles come from the bucket deltas of <c>telephony_audio_latency_seconds</c>
/// (arrival on the socket until in every sink's queue), and received, lost, late and sink-dropped frames are checked
/// against what the clients sent. The run stops at the first step whose p99 reaches 5 ms, that loses, drops or misses
/// a frame, or whose client fell behind its own schedule (then the step says nothing about the bridge).
/// </remarks>
internal static class MediaStreamCapacity
{
    public const string Command = "media-stream-capacity";

    private const int FrameMs = 20;
    private const int FrameBytes = 160;
    private const int DriverLoops = 4;
    private const double P99LimitSeconds = 0.005;

    /// <summary>A client send later than this after its slot counts as the client falling behind.</summary>
    private static readonly TimeSpan ClientLateLimit = TimeSpan.FromMilliseconds(FrameMs);

    public static async Task<int> RunAsync(string[] args)
    {
        int[] steps = [10, 25, 50, 100, 200, 300, 400, 600, 800, 1000, 1500, 2000];
        var seconds = 20;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--streams" && i + 1 < args.Length && TryParseSteps(args[i + 1], out var parsed))
            {
                steps = parsed;
                i++;
            }
            else if (args[i] == "--seconds" && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s > 0)
            {
                seconds = s;
                i++;
            }
            else
            {
                await Console.Error.WriteLineAsync($"Unknown argument '{args[i]}'. Usage: {Command} [--streams 10,25,50,...] [--seconds 20]");
                return 2;
            }
        }

        var serviceDll = FindServiceDll();
        if (serviceDll is null)
        {
            await Console.Error.WriteLineAsync("FAILED: VoiceKraliki.MediaBridge.dll not found next to this build (build the benchmarks project first)");
            return 1;
        }

        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        await using var infrastructure = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

        var key = RandomNumberGenerator.GetBytes(32);
        var tokens = new StreamTokenService(key, TimeProvider.System);
        var recordings = Directory.CreateTempSubdirectory("voicekraliki-media-capacity-");
        var port = FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ConnectionStrings__messaging"] = infrastructure.GetConnectionString("messaging")!,
            ["MediaStreams__TokenSigningKey"] = Convert.ToBase64String(key),
            ["Recording__Policy"] = "Allow",
            ["Recording__Directory"] = recordings.FullName,
            ["Logging__LogLevel__Default"] = "Warning",
        };

        using var bridge = BridgeProcess.Start(serviceDll, environment);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            if (!await WaitHealthyAsync(http, bridge, TimeSpan.FromSeconds(90)))
            {
                await Console.Error.WriteLineAsync("FAILED: media-bridge did not become healthy within 90 s. Its last output:");
                await Console.Error.WriteLineAsync(bridge.LastLines());
                return 1;
            }

            var audio = SpeechLikeFrames();
            var socketUri = new Uri($"ws://127.0.0.1:{port}/media/twilio");
            Console.WriteLine($"media-bridge pid {bridge.Pid} on {socketUri}; {Environment.ProcessorCount} cores; {seconds} s per step; recording to {recordings.FullName}");

            // Warm-up (JIT, pools, the broker's channels): not reported.
            var warmUp = await RunStepAsync(http, socketUri, tokens, audio, bridge, 5, 3);
            Console.WriteLine($"warm-up: 5 streams, p99 {Ms(warmUp.P99)}");
            Clean(recordings);

            var results = new List<StepResult>();
            foreach (var n in steps)
            {
                var result = await RunStepAsync(http, socketUri, tokens, audio, bridge, n, seconds);
                results.Add(result);
                Console.WriteLine($"  N={n}: {result.Summary()}");
                Clean(recordings);
                if (!result.Held)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            Console.WriteLine();
            Console.WriteLine(Table(results));
            var best = results.Where(r => r.Held).Select(r => (int?)r.Streams).LastOrDefault();
            Console.WriteLine(best is { } b
                ? $"highest N with frame handling p99 < 5 ms and no frame lost, late or dropped: {b}" +
                  (results[^1].Held ? $" (the largest step tried; {results[^1].Verdict})" : $" (N={results[^1].Streams}: {results[^1].Verdict})")
                : $"no step held ({results[0].Verdict})");
            if (bridge.WarningLines > 0)
            {
                Console.WriteLine($"media-bridge wrote {bridge.WarningLines} warning/error log lines; the last ones:");
                Console.WriteLine(bridge.LastLines());
            }

            return 0;
        }
        finally
        {
            await bridge.StopAsync();
            try
            {
                recordings.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp folder.
            }
        }
    }

    private static async Task<StepResult> RunStepAsync(
        HttpClient http, Uri socketUri, StreamTokenService tokens, string[] audio, BridgeProcess bridge, int streams, int seconds)
    {
        var before = await ScrapeAsync(http);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var clients = new StreamClient[streams];
        using var connectLimit = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
        {
            await connectLimit.WaitAsync();
            try
            {
                var callSid = $"CA{run}{i:x24}";
                var client = new StreamClient(callSid, $"MZ{run}{i:x24}", audio, i * 37);
                await client.ConnectAsync(socketUri, tokens.Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(10)));
                clients[i] = client;
            }
            finally
            {
                connectLimit.Release();
            }
        }));

        // Every stream past its token check and sink creation before the clock starts.
        var ready = Stopwatch.StartNew();
        while ((await ScrapeAsync(http)).Sum("telephony_media_streams_active") < streams)
        {
            if (ready.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"only {(await ScrapeAsync(http)).Sum("telephony_media_streams_active")} of {streams} streams became active");
            }

            await Task.Delay(100);
        }

        var frames = seconds * 1000 / FrameMs;
        var lateness = new LatenessHistogram[DriverLoops];
        var cpuBefore = bridge.CpuTime();
        var clientCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        // Dedicated threads that sleep to each slot: Task.Delay's timer wakes several milliseconds late here, which
        // would be the client's jitter, not the bridge's. The sends complete synchronously unless the socket backs up.
        var drivers = Enumerable.Range(0, DriverLoops).Select(g => new Thread(() =>
        {
            var mine = clients.Where((_, i) => i % DriverLoops == g).ToArray();
            var histogram = lateness[g] = new LatenessHistogram();
            var phase = (double)FrameMs * g / DriverLoops;
            for (var k = 0; k < frames; k++)
            {
                var due = start + (long)((phase + (k * FrameMs)) / 1000.0 * Stopwatch.Frequency);
                TimeSpan wait;
                while ((wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due)) > TimeSpan.Zero)
                {
                    Thread.Sleep(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)));
                }

                foreach (var client in mine)
                {
                    histogram.Add(Stopwatch.GetElapsedTime(due));
                    var send = client.SendFrameAsync(k);
                    if (!send.IsCompletedSuccessfully)
                    {
                        send.AsTask().GetAwaiter().GetResult();
                    }
                }
            }
        }) { IsBackground = true, Name = $"media client {g}" }).ToArray();
        foreach (var driver in drivers)
        {
            driver.Start();
        }

        foreach (var driver in drivers)
        {
            driver.Join();
        }

        var sendWindow = Stopwatch.GetElapsedTime(start);
        var cpuAfter = bridge.CpuTime();
        var clientCpuAfter = Process.GetCurrentProcess().TotalProcessorTime;

        await Task.WhenAll(clients.Select(c => c.StopAsync()));
        var stopped = Stopwatch.StartNew();
        Scrape after;
        while ((after = await ScrapeAsync(http)).Sum("telephony_media_streams_active") > 0 && stopped.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }

        var allLateness = LatenessHistogram.Merge(lateness);
        var latency = after.Buckets("telephony_audio_latency_seconds").Minus(before.Buckets("telephony_audio_latency_seconds"));
        var jitter = after.Buckets("telephony_audio_jitter_seconds").Minus(before.Buckets("telephony_audio_jitter_seconds"));
        return new StepResult(
            Streams: streams,
            Seconds: seconds,
            FramesSent: (long)streams * frames,
            FramesReceived: after.Sum("telephony_audio_frames_received_total") - before.Sum("telephony_audio_frames_received_total"),
            Lost: after.Sum("telephony_audio_frames_lost_total") - before.Sum("telephony_audio_frames_lost_total"),
            Late: after.Sum("telephony_audio_frames_late_total") - before.Sum("telephony_audio_frames_late_total"),
            SinkDropped: after.Sum("telephony_media_sink_dropped_frames_total") - before.Sum("telephony_media_sink_dropped_frames_total"),
            Completed: after.Sum("telephony_media_streams_closed_total", "outcome", "completed") - before.Sum("telephony_media_streams_closed_total", "outcome", "completed"),
            P50: latency.Quantile(0.50),
            P99: latency.Quantile(0.99),
            JitterP99: jitter.Quantile(0.99),
            BridgeCpu: (cpuAfter - cpuBefore) / sendWindow,
            ClientCpu: (clientCpuAfter - clientCpuBefore) / sendWindow,
            Window: sendWindow,
            ClientP99: allLateness.Quantile(0.99),
            ClientMax: allLateness.Max,
            ClientOverLimit: allLateness.Over(ClientLateLimit));
    }

    private sealed record StepResult(
        int Streams, int Seconds, long FramesSent, long FramesReceived, long Lost, long Late, long SinkDropped, long Completed,
        Quantile P50, Quantile P99, Quantile JitterP99, double BridgeCpu, double ClientCpu, TimeSpan Window,
        TimeSpan ClientP99, TimeSpan ClientMax, long ClientOverLimit)
    {
        public bool ClientValid => ClientOverLimit * 1000 <= FramesSent;

        public bool Held => ClientValid && P99.Value < P99LimitSeconds && Lost == 0 && Late == 0 && SinkDropped == 0
                            && FramesReceived == FramesSent && Completed == Streams;

        public string Verdict =>
            !ClientValid ? $"invalid: the client itself fell behind ({ClientOverLimit:N0} sends > {ClientLateLimit.TotalMilliseconds:0} ms late)"
            : FramesReceived != FramesSent ? $"frames missing: {FramesReceived:N0} of {FramesSent:N0} received"
            : Lost + Late + SinkDropped > 0 ? $"frames lost {Lost:N0}, late {Late:N0}, sink-dropped {SinkDropped:N0}"
            : Completed != Streams ? $"only {Completed} of {Streams} streams ended completed"
            : P99.Value >= P99LimitSeconds ? $"p99 {Ms(P99)} ≥ 5 ms"
            : "held";

        public string Summary() =>
            $"{FramesReceived / Window.TotalSeconds:N0} frames/s, p50 {Ms(P50)}, p99 {Ms(P99)}, lost {Lost}, late {Late}, dropped {SinkDropped}, " +
            $"bridge CPU {BridgeCpu:P0} of a core, client CPU {ClientCpu:P0}, client lateness p99 {ClientP99.TotalMilliseconds:F1} ms max {ClientMax.TotalMilliseconds:F1} ms: {Verdict}";
    }

    private static string Table(IEnumerable<StepResult> results)
    {
        var table = new StringBuilder();
        table.AppendLine("| N streams | frames/s received | frame handling p50 | p99 | frames lost / late / sink-dropped | bridge CPU (% of one core) | client CPU | client send lateness p99 / max | quality jitter p99 | result |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Streams:N0} | {r.FramesReceived / r.Window.TotalSeconds:N0} | {Ms(r.P50)} | {Ms(r.P99)} | {r.Lost} / {r.Late} / {r.SinkDropped} | " +
                $"{r.BridgeCpu * 100:F0} % | {r.ClientCpu * 100:F0} % | {r.ClientP99.TotalMilliseconds:F1} / {r.ClientMax.TotalMilliseconds:F1} ms | {Ms(r.JitterP99)} | {r.Verdict} |");
        }

        return table.ToString();
    }

    private static string Ms(Quantile q) => q.Count == 0
        ? "–"
        : q.AboveLastBound
            ? $"> {q.Upper * 1000:0.###} ms"
            : $"{q.Value * 1000:0.###} ms ({q.Lower * 1000:0.###}–{q.Upper * 1000:0.###})";

    private static bool TryParseSteps(string value, out int[] steps)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        steps = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], CultureInfo.InvariantCulture, out steps[i]) || steps[i] <= 0)
            {
                return false;
            }
        }

        return steps.Length > 0;
    }

    /// <summary>The service's own build output (deps and runtimeconfig included), in this build's configuration.</summary>
    private static string? FindServiceDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent?.Name;
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "VoiceKraliki.MediaBridge", "bin", configuration ?? "Release", framework, "VoiceKraliki.MediaBridge.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> WaitHealthyAsync(HttpClient http, BridgeProcess bridge, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < within && !bridge.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        return false;
    }

    private static void Clean(DirectoryInfo recordings)
    {
        foreach (var file in recordings.EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                file.Delete();
            }
            catch (IOException)
            {
                // Still open: a stream that has not finished; the folder goes at the end.
            }
        }
    }

    /// <summary>
    /// 5 s of a speech-like signal as base64 μ-law frames: a voiced source (fundamental gliding around 120 Hz, its
    /// harmonics falling off) shaped into syllables about 4 a second, with short pauses, and a little noise.
    /// </summary>
    private static string[] SpeechLikeFrames()
    {
        const int rate = 8000;
        var random = new Random(20261123);
        var pcm = new short[5 * rate];
        var phase = 0.0;
        for (var n = 0; n < pcm.Length; n++)
        {
            var t = (double)n / rate;
            var f0 = 120 + 25 * Math.Sin(2 * Math.PI * 0.7 * t);
            phase += 2 * Math.PI * f0 / rate;
            var voiced = 0.0;
            for (var h = 1; h <= 12; h++)
            {
                voiced += Math.Sin(h * phase) / h;
            }

            var syllable = Math.Max(0, Math.Sin(2 * Math.PI * 4 * t)) * (Math.Sin(2 * Math.PI * 0.45 * t) > -0.6 ? 1 : 0);
            var sample = 6000 * syllable * voiced + 80 * (random.NextDouble() - 0.5);
            pcm[n] = (short)Math.Clamp(sample, short.MinValue, short.MaxValue);
        }

        var frames = new string[pcm.Length / FrameBytes];
        var encoded = new byte[FrameBytes];
        for (var f = 0; f < frames.Length; f++)
        {
            G711.EncodeMuLaw(pcm.AsSpan(f * FrameBytes, FrameBytes), encoded);
            frames[f] = Convert.ToBase64String(encoded);
        }

        return frames;
    }

    private static async Task<Scrape> ScrapeAsync(HttpClient http) =>
        new(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

    /// <summary>One Twilio Media Stream client: sends on the driver loops' schedule, reads only to answer pings and see the close.</summary>
    private sealed class StreamClient(string callSid, string streamSid, string[] audio, int audioOffset) : IDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly byte[] _message = new byte[1024];
        private Task? _receiving;

        public async Task ConnectAsync(Uri uri, string token)
        {
            _socket.Options.KeepAliveInterval = TimeSpan.Zero;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _socket.ConnectAsync(uri, timeout.Token);
            _receiving = ReceiveUntilCloseAsync();
            await SendTextAsync("""{"event":"connected","protocol":"Call","version":"1.0.0"}""");
            await SendTextAsync(
                $$$"""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC00000000000000000000000000000001","streamSid":"{{{streamSid}}}","callSid":"{{{callSid}}}","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"token":"{{{token}}}"}},"streamSid":"{{{streamSid}}}"}""");
        }

        public ValueTask SendFrameAsync(int k)
        {
            var payload = audio[(audioOffset + k) % audio.Length];
            Utf8.TryWrite(_message,
                $$"""{"event":"media","sequenceNumber":"{{k + 2}}","media":{"track":"inbound","chunk":"{{k + 1}}","timestamp":"{{k * FrameMs}}","payload":"{{payload}}"},"streamSid":"{{streamSid}}"}""",
                out var written);
            return _socket.SendAsync(_message.AsMemory(0, written), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        public async Task StopAsync()
        {
            await SendTextAsync(
                $$"""{"event":"stop","sequenceNumber":"999999","stop":{"accountSid":"AC00000000000000000000000000000001","callSid":"{{callSid}}"},"streamSid":"{{streamSid}}"}""");
            await _receiving!.WaitAsync(TimeSpan.FromSeconds(30));
            if (_socket.State == WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }

        public void Dispose() => _socket.Dispose();

        private async Task SendTextAsync(string text) =>
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

        private async Task ReceiveUntilCloseAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                }
            }
            catch (WebSocketException)
            {
                // The connection broke; the step's counts will show it.
            }
        }
    }

    /// <summary>How late the client's own sends went out after their slot: 0.1 ms buckets up to 100 ms.</summary>
    private sealed class LatenessHistogram
    {
        private readonly long[] _counts = new long[1001];

        public TimeSpan Max { get; private set; }

        public void Add(TimeSpan lateness)
        {
            var bucket = (int)Math.Clamp(lateness.TotalMilliseconds * 10, 0, _counts.Length - 1);
            _counts[bucket]++;
            if (lateness > Max)
            {
                Max = lateness;
            }
        }

        public long Over(TimeSpan limit) => _counts.Skip((int)(limit.TotalMilliseconds * 10) + 1).Sum();

        public TimeSpan Quantile(double q)
        {
            var total = _counts.Sum();
            var rank = (long)Math.Ceiling(q * total);
            long seen = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                seen += _counts[i];
                if (seen >= rank)
                {
                    return TimeSpan.FromMilliseconds((i + 1) / 10.0);
                }
            }

            return Max;
        }

        public static LatenessHistogram Merge(IEnumerable<LatenessHistogram> parts)
        {
            var merged = new LatenessHistogram();
            foreach (var part in parts)
            {
                for (var i = 0; i < merged._counts.Length; i++)
                {
                    merged._counts[i] += part._counts[i];
                }

                merged.Max = part.Max > merged.Max ? part.Max : merged.Max;
            }

            return merged;
        }
    }

    /// <summary>A percentile interpolated linearly within its histogram bucket (Lower, Upper].</summary>
    private readonly record struct Quantile(double Value, double Lower, double Upper, long Count, bool AboveLastBound);

    /// <summary>Cumulative bucket counts by upper bound (<c>le</c>), +Inf last.</summary>
    private sealed class Buckets(SortedDictionary<double, double> cumulative)
    {
        private SortedDictionary<double, double> Cumulative => cumulative;

        public Buckets Minus(Buckets earlier)
        {
            var delta = new SortedDictionary<double, double>();
            foreach (var (le, count) in cumulative)
            {
                delta[le] = count - earlier.Cumulative.GetValueOrDefault(le);
            }

            return new Buckets(delta);
        }

        public Quantile Quantile(double q)
        {
            var total = cumulative.Count == 0 ? 0 : cumulative.Last().Value;
            if (total <= 0)
            {
                return default;
            }

            var rank = q * total;
            var lower = 0.0;
            var below = 0.0;
            foreach (var (le, count) in cumulative)
            {
                if (count >= rank)
                {
                    if (double.IsPositiveInfinity(le))
                    {
                        return new Quantile(double.PositiveInfinity, lower, lower, (long)total, true);
                    }

                    var inBucket = count - below;
                    var value = inBucket <= 0 ? le : lower + ((le - lower) * (rank - below) / inBucket);
                    return new Quantile(value, lower, le, (long)total, false);
                }

                lower = le;
                below = count;
            }

            return default;
        }
    }

    /// <summary>A Prometheus text exposition, summed over the series that match.</summary>
    private sealed class Scrape(string text)
    {
        private readonly (string Name, Dictionary<string, string> Labels, double Value)[] _samples = Parse(text);

        public long Sum(string name, string? label = null, string? value = null) =>
            (long)_samples.Where(s => s.Name == name && (label is null || s.Labels.GetValueOrDefault(label) == value)).Sum(s => s.Value);

        public Buckets Buckets(string histogram)
        {
            var cumulative = new SortedDictionary<double, double>();
            foreach (var (_, labels, value) in _samples.Where(s => s.Name == histogram + "_bucket"))
            {
                var le = labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(labels["le"], CultureInfo.InvariantCulture);
                cumulative[le] = cumulative.GetValueOrDefault(le) + value;
            }

            return new Buckets(cumulative);
        }

        private static (string, Dictionary<string, string>, double)[] Parse(string text)
        {
            var samples = new List<(string, Dictionary<string, string>, double)>();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }

                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                var brace = line.IndexOf('{', StringComparison.Ordinal);
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                string name;
                string rest;
                if (brace >= 0 && (space < 0 || brace < space))
                {
                    name = line[..brace];
                    var close = line.LastIndexOf('}');
                    foreach (var pair in line[(brace + 1)..close].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                    {
                        var eq = pair.IndexOf('=', StringComparison.Ordinal);
                        labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                    }

                    rest = line[(close + 1)..].Trim();
                }
                else
                {
                    name = line[..space];
                    rest = line[(space + 1)..].Trim();
                }

                var number = rest.Split(' ')[0];
                if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    samples.Add((name, labels, v));
                }
            }

            return [.. samples];
        }
    }

    /// <summary>media-bridge as its own process: its output kept (last lines) and its CPU time read from /proc.</summary>
    private sealed class BridgeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly Queue<string> _last = new();
        private readonly Lock _gate = new();

        private BridgeProcess(Process process) => _process = process;

        public int Pid => _process.Id;

        public bool HasExited => _process.HasExited;

        public int WarningLines { get; private set; }

        public static BridgeProcess Start(string dll, IReadOnlyDictionary<string, string> environment)
        {
            var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(dll)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(dll);
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }

            var bridge = new BridgeProcess(new Process { StartInfo = info });
            bridge._process.OutputDataReceived += (_, e) => bridge.Keep(e.Data);
            bridge._process.ErrorDataReceived += (_, e) => bridge.Keep(e.Data);
            bridge._process.Start();
            bridge._process.BeginOutputReadLine();
            bridge._process.BeginErrorReadLine();
            return bridge;
        }

        /// <summary>utime + stime of the process (all its threads), from /proc/&lt;pid&gt;/stat; else what .NET reports.</summary>
        public TimeSpan CpuTime()
        {
            var path = $"/proc/{_process.Id}/stat";
            if (!File.Exists(path))
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }

            var stat = File.ReadAllText(path);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 3, utime field 14, stime field 15; clock ticks of 1/100 s on Linux.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }

        public string LastLines()
        {
            lock (_gate)
            {
                return string.Join(Environment.NewLine, _last);
            }
        }

        public async Task StopAsync()
        {
            if (_process.HasExited)
            {
                return;
            }

            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        public void Dispose() => _process.Dispose();

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                if (line.Contains("warn", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase)
                    || line.Contains("crit", StringComparison.OrdinalIgnoreCase))
                {
                    WarningLines++;
                }

                _last.Enqueue(line);
                if (_last.Count > 40)
                {
                    _last.Dequeue();
                }
            }
        }
    }
}
