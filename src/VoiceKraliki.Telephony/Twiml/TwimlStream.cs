namespace VoiceKraliki.Telephony.Twiml;

/// <summary>
/// A <c>&lt;Stream&gt;</c> noun for <see cref="TwimlResponse.Connect"/> (bidirectional) or <see cref="TwimlResponse.Start"/>
/// (one-way: the caller hears nothing we send back). <see cref="Parameters"/> become <c>&lt;Parameter name value&gt;</c>
/// children, which Twilio hands back in the stream's <c>start</c> message as <c>customParameters</c>.
/// </summary>
/// <param name="Track"><c>inbound_track</c>, <c>outbound_track</c> or <c>both_tracks</c>; with Connect only <c>inbound_track</c>.</param>
public sealed record TwimlStream(
    string Url,
    string? Name = null,
    string? Track = null,
    string? StatusCallback = null,
    IEnumerable<KeyValuePair<string, string>>? Parameters = null)
{
    public const string InboundTrack = "inbound_track";
    public const string OutboundTrack = "outbound_track";
    public const string BothTracks = "both_tracks";

    /// <summary><c>GET</c> or <c>POST</c> for <see cref="StatusCallback"/>.</summary>
    public string? StatusCallbackMethod { get; init; }
}
