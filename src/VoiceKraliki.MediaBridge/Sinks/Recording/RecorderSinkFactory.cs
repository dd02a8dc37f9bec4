using Microsoft.Extensions.Options;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Asks the <see cref="IRecordingPolicy"/> about every stream and records only those it allows. Every decision is
/// logged with its basis (never with the numbers). A policy that fails, or a folder that cannot be written, means no
/// recording for that stream; the stream itself carries on.
/// </summary>
internal sealed partial class RecorderSinkFactory(
    IRecordingPolicy policy,
    RecordingStore store,
    IOptions<RecordingOptions> options,
    TimeProvider time,
    ILogger<RecorderSinkFactory> logger) : IMediaSinkFactory
{
    public const string FromParameter = "from";
    public const string ToParameter = "to";

    public async ValueTask<IMediaSink?> CreateAsync(MediaStreamInfo stream, IProviderOutput output, CancellationToken cancellationToken)
    {
        RecordingDecision decision;
        try
        {
            decision = await policy.DecideAsync(stream, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            decision = RecordingDecision.Deny("policy-failed", $"the recording policy failed ({ex.GetType().Name})");
        }

        LogDecision(logger, stream.Provider, stream.CallId, stream.StreamId, decision.Allowed, decision.Basis, decision.Reason);
        if (!decision.Allowed)
        {
            return null;
        }

        var layout = Layout(stream.Tracks);
        try
        {
            var recording = store.Begin(stream, recordingId => new RecordingSidecar
            {
                RecordingId = recordingId,
                AudioFile = recordingId + RecordingStore.AudioExtension,
                Provider = RecordingStore.ProviderName(stream.Provider),
                CallId = stream.CallId,
                SessionId = stream.SessionId,
                StreamId = stream.StreamId,
                From = Parameter(stream, FromParameter),
                To = Parameter(stream, ToParameter),
                StartedAt = stream.StartedAt,
                SampleRate = stream.SampleRate,
                Channels = layout.Length,
                ChannelLayout = layout.Select(track => track == MediaTrack.Inbound ? "inbound" : "outbound").ToArray(),
                PolicyBasis = decision.Basis,
            });
            try
            {
                var sink = new RecorderSink(store, recording, layout, stream.SampleRate, time, options.Value.FlushInterval, logger);
                LogStarted(logger, recording.RecordingId, stream.CallId, layout.Length, stream.SampleRate);
                return sink;
            }
            catch
            {
                recording.Audio.Dispose();
                store.Abandon(recording);
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            LogCannotRecord(logger, stream.CallId, stream.StreamId, store.Folder, ex.Message);
            return null;
        }
    }

    /// <summary>Both tracks make a stereo file, inbound left; one track (or none said) a mono file.</summary>
    internal static MediaTrack[] Layout(IReadOnlyList<MediaTrack> tracks)
    {
        var inbound = tracks.Contains(MediaTrack.Inbound);
        var outbound = tracks.Contains(MediaTrack.Outbound);
        return (inbound, outbound) switch
        {
            (true, true) => [MediaTrack.Inbound, MediaTrack.Outbound],
            (false, true) => [MediaTrack.Outbound],
            _ => [MediaTrack.Inbound],
        };
    }

    private static string? Parameter(MediaStreamInfo stream, string name) =>
        stream.Parameters.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording decision for {Provider} call {CallId} stream {StreamId}: allowed={Allowed}, basis {Basis} ({Reason})")]
    private static partial void LogDecision(ILogger logger, Contracts.TelephonyProvider provider, string callId, string streamId, bool allowed, string basis, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording {RecordingId} started for call {CallId}: {Channels} channel(s) at {SampleRate} Hz")]
    private static partial void LogStarted(ILogger logger, string recordingId, string callId, int channels, int sampleRate);

    [LoggerMessage(Level = LogLevel.Error, Message = "Call {CallId} stream {StreamId} is allowed to be recorded but the recording cannot be created in {Folder}: {Error}")]
    private static partial void LogCannotRecord(ILogger logger, string callId, string streamId, string folder, string error);
}
