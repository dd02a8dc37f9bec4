using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Recording;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Recording;

/// <summary>The recorder as the pipeline sees it, over a temporary folder and a fake clock.</summary>
internal sealed class RecorderHarness : IDisposable
{
    public RecorderHarness(
        RecordingPolicyMode policy = RecordingPolicyMode.Allow,
        string[]? allowedPrefixes = null,
        IRecordingPolicy? customPolicy = null,
        string? directory = null)
    {
        Options = new RecordingOptions
        {
            Directory = directory ?? Folder.Recordings,
            Policy = policy,
            AllowedCallIdPrefixes = allowedPrefixes ?? [],
        };
        Store = new RecordingStore(Microsoft.Extensions.Options.Options.Create(Options), NullLogger<RecordingStore>.Instance);
        Policy = customPolicy ?? new ConfiguredRecordingPolicy(new StaticOptionsMonitor<RecordingOptions>(Options));
        Factory = new RecorderSinkFactory(Policy, Store, Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<RecorderSinkFactory>.Instance);
    }

    public TempFolder Folder { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public RecordingOptions Options { get; }

    public RecordingStore Store { get; }

    public IRecordingPolicy Policy { get; }

    public RecorderSinkFactory Factory { get; }

    public async Task<RecorderSink?> StartAsync(MediaStreamInfo stream) =>
        (RecorderSink?)await Factory.CreateAsync(stream, new RecordingProviderOutput(), CancellationToken.None);

    /// <summary>Records <paramref name="frames"/> 20 ms inbound frames and stops; the recording id.</summary>
    public async Task<string> RecordAsync(MediaStreamInfo stream, int frames = 5)
    {
        var sink = await StartAsync(stream) ?? throw new InvalidOperationException("The recorder declined the stream.");
        for (var i = 0; i < frames; i++)
        {
            await sink.OnAudioAsync(MediaTrack.Inbound, Streams.Frame(i), Streams.Ms(20 * i), CancellationToken.None);
        }

        await sink.OnStopAsync("stop", CancellationToken.None);
        await sink.DisposeAsync();
        return sink.RecordingId;
    }

    public string PathOf(string recordingId, string extension) => Path.Combine(Folder.Recordings, recordingId + extension);

    public RecordingSidecar Sidecar(string recordingId) =>
        JsonSerializer.Deserialize<RecordingSidecar>(File.ReadAllBytes(PathOf(recordingId, ".json")), RecordingSidecar.JsonOptions)!;

    public (int SampleRate, int Channels, short[] Samples) Wav(string recordingId)
    {
        // Shared read: the recorder may still hold the file open, as a crash would leave it.
        using var file = new FileStream(PathOf(recordingId, ".wav"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return WavFile.Read(file);
    }

    public void Dispose() => Folder.Dispose();
}

internal sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
