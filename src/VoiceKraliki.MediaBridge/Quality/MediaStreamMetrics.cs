using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Quality;

/// <summary>How a media stream ended, as a metric label and in <c>MediaStreamEnded.Reason</c>.</summary>
internal enum StreamOutcome
{
    /// <summary>The provider sent <c>stop</c>.</summary>
    Completed,

    /// <summary>The provider closed the WebSocket without <c>stop</c>.</summary>
    ClientClosed,

    /// <summary>The connection broke (no close handshake).</summary>
    Aborted,
    TokenMissing,
    TokenInvalid,
    TokenExpired,

    /// <summary>A valid token, but for another call or provider.</summary>
    TokenMismatch,

    /// <summary>Malformed JSON, bad base64, a missing field.</summary>
    Malformed,

    /// <summary>Media before start, a second start.</summary>
    ProtocolViolation,
    UnsupportedFormat,
    TooBig,
    NotText,
    NoStart,
    ShuttingDown,
}

/// <summary>
/// media-bridge's metrics on <c>/metrics</c> (docs/media-bridge.md says what each counts). Instruments are named without
/// the suffixes our Prometheus exposition adds (<c>_total</c> for a counter, <c>_seconds</c> for unit <c>s</c>; unit
/// <c>1</c> and <c>{…}</c> add none), so <c>telephony_audio_latency</c> in seconds is exported as
/// <c>telephony_audio_latency_seconds</c>.
/// </summary>
internal sealed class MediaStreamMetrics : IDisposable
{
    public const string MeterName = "VoiceKraliki.MediaBridge";

    /// <summary>Distinct unknown event names given their own label value; the rest are counted as <c>other</c>.</summary>
    public const int MaxUnknownEventLabels = 20;

    private static readonly KeyValuePair<string, object?> Twilio = new("provider", "twilio");
    private static readonly KeyValuePair<string, object?> Telnyx = new("provider", "telnyx");

    private readonly Meter _meter;
    private readonly Histogram<double> _sendLateness;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _jitter;
    private readonly Histogram<double> _loss;
    private readonly Counter<long> _framesReceived;
    private readonly Counter<long> _framesLost;
    private readonly Counter<long> _framesLate;
    private readonly Counter<long> _framesSent;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _unknownEvents;
    private readonly Counter<long> _sinkDropped;
    private readonly Counter<long> _sinkFailures;
    private readonly Counter<long> _publishFailures;
    private readonly ConcurrentDictionary<string, bool> _unknownNames = new(StringComparer.Ordinal);

    public MediaStreamMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _latency = _meter.CreateHistogram<double>("telephony_audio_latency", unit: "s",
            description: "media-bridge's own latency: from a media frame's arrival on the provider socket until it is in every sink's queue (reorder-buffer wait included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1] });
        _sendLateness = _meter.CreateHistogram<double>("telephony_audio_send_lateness", unit: "s",
            description: "How far behind its 20 ms slot each frame sent to the provider went out (the pacing's accuracy).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25] });
        _jitter = _meter.CreateHistogram<double>("telephony_audio_jitter", unit: "s",
            description: "RFC 3550 interarrival jitter of media frames at the end of each quality report interval, one value per report.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1] });
        _loss = _meter.CreateHistogram<double>("telephony_audio_packet_loss_ratio", unit: "1",
            description: "Share of the frames expected in a quality report interval that were lost (not there in time), one value per report.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1] });
        _framesReceived = _meter.CreateCounter<long>("telephony_audio_frames_received", unit: "{frame}",
            description: "Media frames received from providers (duplicates not counted).");
        _framesLost = _meter.CreateCounter<long>("telephony_audio_frames_lost", unit: "{frame}",
            description: "Media frame places the reorder buffer gave up on: nothing arrived for them in time.");
        _framesLate = _meter.CreateCounter<long>("telephony_audio_frames_late", unit: "{frame}",
            description: "Media frames that arrived after their place was played or given up, and were dropped.");
        _framesSent = _meter.CreateCounter<long>("telephony_audio_frames_sent", unit: "{frame}",
            description: "20 ms media frames sent back to providers.");
        _active = _meter.CreateUpDownCounter<long>("telephony_media_streams_active", unit: "{stream}",
            description: "Media stream WebSockets open now.");
        _opened = _meter.CreateCounter<long>("telephony_media_streams_opened", unit: "{stream}",
            description: "Media stream WebSockets accepted.");
        _closed = _meter.CreateCounter<long>("telephony_media_streams_closed", unit: "{stream}",
            description: "Media streams ended, by outcome (completed, client_closed, token_invalid, malformed, …).");
        _messages = _meter.CreateCounter<long>("telephony_media_messages", unit: "{message}",
            description: "Media stream messages received, by event (unknown events as 'unknown', unparseable ones as 'malformed').");
        _unknownEvents = _meter.CreateCounter<long>("telephony_media_unknown_events", unit: "{message}",
            description: "Media stream messages with an event we do not handle, by sanitized event name (the first 20 names; then 'other').");
        _sinkDropped = _meter.CreateCounter<long>("telephony_media_sink_dropped_frames", unit: "{frame}",
            description: "Audio frames a sink's full queue dropped (the oldest queued frame goes).");
        _sinkFailures = _meter.CreateCounter<long>("telephony_media_sink_failures", unit: "{sink}",
            description: "Sinks that threw (or whose factory threw) and were removed from their stream.");
        _publishFailures = _meter.CreateCounter<long>("telephony_media_event_publish_failures", unit: "{event}",
            description: "Media events (MediaStreamStarted, MediaQualityReported, MediaStreamEnded) that could not be published in time.");
    }

    public void StreamOpened(TelephonyProvider provider)
    {
        var tag = ProviderTag(provider);
        _opened.Add(1, tag);
        _active.Add(1, tag);
    }

    public void StreamClosed(TelephonyProvider provider, StreamOutcome outcome)
    {
        var tag = ProviderTag(provider);
        _active.Add(-1, tag);
        _closed.Add(1, tag, new KeyValuePair<string, object?>("outcome", OutcomeLabel(outcome)));
    }

    public void MessageReceived(TelephonyProvider provider, string eventLabel) =>
        _messages.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("event", eventLabel));

    /// <summary>An event we do not handle; <paramref name="sanitizedName"/> is already fit for a label.</summary>
    public void UnknownEvent(TelephonyProvider provider, string sanitizedName)
    {
        var label = _unknownNames.ContainsKey(sanitizedName)
                    || (_unknownNames.Count < MaxUnknownEventLabels && _unknownNames.TryAdd(sanitizedName, true))
            ? sanitizedName
            : "other";
        _messages.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("event", "unknown"));
        _unknownEvents.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("event", label));
    }

    public void FrameReceived(TelephonyProvider provider) => _framesReceived.Add(1, ProviderTag(provider));

    public void FramesLost(TelephonyProvider provider, long count) => _framesLost.Add(count, ProviderTag(provider));

    public void FrameLate(TelephonyProvider provider) => _framesLate.Add(1, ProviderTag(provider));

    public void FrameSent(TelephonyProvider provider, TimeSpan lateness)
    {
        _framesSent.Add(1, ProviderTag(provider));
        _sendLateness.Record(lateness.TotalSeconds, ProviderTag(provider));
    }

    public void Latency(TelephonyProvider provider, TimeSpan latency) => _latency.Record(latency.TotalSeconds, ProviderTag(provider));

    public void Reported(TelephonyProvider provider, QualitySnapshot snapshot)
    {
        var tag = ProviderTag(provider);
        _jitter.Record(snapshot.JitterMilliseconds / 1000, tag);
        if (snapshot.Expected > 0)
        {
            _loss.Record(snapshot.PacketLossRatio, tag);
        }
    }

    public void SinkDropped(TelephonyProvider provider, string sink) =>
        _sinkDropped.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("sink", sink));

    public void SinkFailed(TelephonyProvider provider, string sink) =>
        _sinkFailures.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("sink", sink));

    public void PublishFailed(string eventName) =>
        _publishFailures.Add(1, new KeyValuePair<string, object?>("event", eventName));

    public void Dispose() => _meter.Dispose();

    public static string OutcomeLabel(StreamOutcome outcome) => outcome switch
    {
        StreamOutcome.Completed => "completed",
        StreamOutcome.ClientClosed => "client_closed",
        StreamOutcome.Aborted => "aborted",
        StreamOutcome.TokenMissing => "token_missing",
        StreamOutcome.TokenInvalid => "token_invalid",
        StreamOutcome.TokenExpired => "token_expired",
        StreamOutcome.TokenMismatch => "token_mismatch",
        StreamOutcome.Malformed => "malformed",
        StreamOutcome.ProtocolViolation => "protocol_violation",
        StreamOutcome.UnsupportedFormat => "unsupported_format",
        StreamOutcome.TooBig => "too_big",
        StreamOutcome.NotText => "not_text",
        StreamOutcome.NoStart => "no_start",
        StreamOutcome.ShuttingDown => "shutting_down",
        _ => "other",
    };

    private static KeyValuePair<string, object?> ProviderTag(TelephonyProvider provider) =>
        provider == TelephonyProvider.Twilio ? Twilio : Telnyx;
}
