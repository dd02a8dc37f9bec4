using System.Diagnostics;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Tests.Sinks;

/// <summary>A clock that stands still until a test moves it (timestamps included).</summary>
internal sealed class FakeTimeProvider(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;
    private long _timestamp;

    public FakeTimeProvider()
        : this(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _timestamp;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        _now += by;
        _timestamp += by.Ticks;
    }
}

/// <summary>A folder of its own under the OS temp folder, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "vk-sinks-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Recordings = Path.Combine(Root, "recordings");
    }

    /// <summary>Where the recordings go (created by the store); its parent is <see cref="Root"/>.</summary>
    public string Recordings { get; }

    public string Root { get; }

    public string[] Files() =>
        Directory.Exists(Recordings) ? Directory.GetFiles(Recordings).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

internal static class Streams
{
    public static MediaStreamInfo Info(
        string callId = "CA00000000000000000000000000000001",
        string streamId = "MZ00000000000000000000000000000001",
        IReadOnlyList<MediaTrack>? tracks = null,
        IReadOnlyDictionary<string, string>? parameters = null,
        int sampleRate = 8000,
        TelephonyProvider provider = TelephonyProvider.Twilio) =>
        new(provider, streamId, callId, "session-1", WireEncoding.MuLaw, sampleRate, tracks ?? [MediaTrack.Inbound],
            parameters ?? new Dictionary<string, string>(), new DateTimeOffset(2025, 6, 2, 9, 59, 0, TimeSpan.Zero));

    /// <summary>A 20 ms frame whose samples say where they come from: <paramref name="seed"/> × 1000 + index.</summary>
    public static short[] Frame(int seed, int length = 160) =>
        Enumerable.Range(0, length).Select(i => (short)((seed * 1000) + i)).ToArray();

    public static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    public static async Task Eventually(Func<bool> condition, string what, int seconds = 10)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new Xunit.Sdk.XunitException($"Not within {seconds} s: {what}");
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>Our own provider-output interface, recorded: what a sink asked to play, mark and clear.</summary>
internal sealed class RecordingProviderOutput : IProviderOutput
{
    private readonly Lock _gate = new();
    private readonly List<short> _audio = [];
    private readonly List<string> _calls = [];
    private readonly List<int> _rates = [];

    public int[] AudioRates
    {
        get
        {
            lock (_gate)
            {
                return [.. _rates];
            }
        }
    }

    public short[] Audio
    {
        get
        {
            lock (_gate)
            {
                return [.. _audio];
            }
        }
    }

    /// <summary>"audio", "mark:&lt;name&gt;" and "clear", in order.</summary>
    public string[] Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public ValueTask SendAudioAsync(ReadOnlyMemory<short> pcm, int sampleRate, CancellationToken cancellationToken)
    {
        Assert.False(pcm.IsEmpty, "a sink sent an empty audio frame");
        lock (_gate)
        {
            _audio.AddRange(pcm.Span);
            _rates.Add(sampleRate);
            _calls.Add("audio");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _calls.Add("mark:" + name);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ClearAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _calls.Add("clear");
        }

        return ValueTask.CompletedTask;
    }
}
