using System.Collections.Concurrent;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>What a <see cref="TestSink"/> does: take its time over each frame, throw at some point, talk back at start.</summary>
public sealed record SinkBehaviour(
    TimeSpan AudioDelay = default,
    int ThrowOnFrame = 0,
    Func<MediaStreamInfo, IProviderOutput, Task>? OnStarted = null,
    string Name = "test");

/// <summary>
/// Test sinks in the real service: for each stream whose call id a test configured, up to <see cref="Slots"/> sinks
/// (one per registered <see cref="Factory"/>), and none for any other stream, so tests sharing one server do not see
/// each other's sinks.
/// </summary>
public sealed class TestSinks
{
    public const int Slots = 2;

    private readonly ConcurrentDictionary<string, List<SinkBehaviour>> _behaviours = new();
    private readonly ConcurrentDictionary<string, List<TestSink>> _made = new();

    public void Configure(string callId, params SinkBehaviour[] sinks) => _behaviours[callId] = [.. sinks];

    public async Task<IReadOnlyList<TestSink>> WaitForAsync(string callId, int count = 1, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_made.TryGetValue(callId, out var sinks))
            {
                lock (sinks)
                {
                    if (sinks.Count >= count)
                    {
                        return [.. sinks];
                    }
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {count} sink(s) were made for call {callId}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The factories to register: one per slot.</summary>
    public IEnumerable<IMediaSinkFactory> Factories() => Enumerable.Range(0, Slots).Select(slot => new Factory(this, slot));

    private IMediaSink? Create(int slot, MediaStreamInfo stream, IProviderOutput output)
    {
        if (!_behaviours.TryGetValue(stream.CallId, out var behaviours) || slot >= behaviours.Count)
        {
            return null;
        }

        var made = _made.GetOrAdd(stream.CallId, _ => []);
        var sink = new TestSink(behaviours[slot], stream, output);
        lock (made)
        {
            made.Add(sink);
        }

        sink.Talk();
        return sink;
    }

    public sealed class Factory(TestSinks sinks, int slot) : IMediaSinkFactory
    {
        public ValueTask<IMediaSink?> CreateAsync(MediaStreamInfo stream, IProviderOutput output, CancellationToken cancellationToken) =>
            ValueTask.FromResult(sinks.Create(slot, stream, output));
    }
}

/// <summary>Records everything it is given, and when.</summary>
public sealed class TestSink(SinkBehaviour behaviour, MediaStreamInfo info, IProviderOutput output) : IMediaSink
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _frames;

    public string Name => behaviour.Name;

    public MediaStreamInfo Info { get; } = info;

    public IProviderOutput Output { get; } = output;

    public ConcurrentQueue<(MediaTrack Track, short[] Pcm, TimeSpan StreamTime)> Audio { get; } = new();

    public ConcurrentQueue<string> Dtmf { get; } = new();

    public ConcurrentQueue<string> Marks { get; } = new();

    public string? StopReason { get; private set; }

    public Task Disposed => _disposed.Task;

    /// <summary>What <see cref="SinkBehaviour.OnStarted"/> does with the output, run from the sink's creation on.</summary>
    public Task Talking { get; private set; } = Task.CompletedTask;

    internal void Talk()
    {
        if (behaviour.OnStarted is { } talk)
        {
            Talking = Task.Run(() => talk(Info, Output));
        }
    }

    public async ValueTask OnAudioAsync(MediaTrack track, ReadOnlyMemory<short> pcm, TimeSpan streamTime, CancellationToken cancellationToken)
    {
        var frame = Interlocked.Increment(ref _frames);
        if (behaviour.ThrowOnFrame > 0 && frame >= behaviour.ThrowOnFrame)
        {
            throw new InvalidOperationException("This test sink breaks.");
        }

        if (behaviour.AudioDelay > TimeSpan.Zero)
        {
            await Task.Delay(behaviour.AudioDelay, cancellationToken);
        }

        Audio.Enqueue((track, pcm.ToArray(), streamTime));
    }

    public ValueTask OnDtmfAsync(string digit, CancellationToken cancellationToken)
    {
        Dtmf.Enqueue(digit);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnMarkAsync(string name, CancellationToken cancellationToken)
    {
        Marks.Enqueue(name);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnStopAsync(string reason, CancellationToken cancellationToken)
    {
        StopReason = reason;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
