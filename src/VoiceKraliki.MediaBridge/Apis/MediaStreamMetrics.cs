using System.Diagnostics.Metrics;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Apis;

/// <summary>Stream and message counts, exported on <c>/metrics</c>.</summary>
public sealed class MediaStreamMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly UpDownCounter<long> _activeStreams;
    private readonly Counter<long> _streams;
    private readonly Counter<long> _messages;

    public MediaStreamMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create("VoiceKraliki.MediaBridge");
        _activeStreams = _meter.CreateUpDownCounter<long>("voicekraliki.media.streams.active", "{stream}", "Media streams open now.");
        _streams = _meter.CreateCounter<long>("voicekraliki.media.streams", "{stream}", "Media streams accepted.");
        _messages = _meter.CreateCounter<long>("voicekraliki.media.messages", "{message}", "Media stream messages received, by event.");
    }

    public void StreamOpened(TelephonyProvider provider)
    {
        var tag = ProviderTag(provider);
        _streams.Add(1, tag);
        _activeStreams.Add(1, tag);
    }

    public void StreamClosed(TelephonyProvider provider) => _activeStreams.Add(-1, ProviderTag(provider));

    public void MessageReceived(TelephonyProvider provider, string eventName) =>
        _messages.Add(1, ProviderTag(provider), new KeyValuePair<string, object?>("event", eventName));

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> ProviderTag(TelephonyProvider provider) =>
        new("provider", provider == TelephonyProvider.Twilio ? "twilio" : "telnyx");
}
