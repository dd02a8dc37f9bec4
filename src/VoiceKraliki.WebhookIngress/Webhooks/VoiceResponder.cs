using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;
using VoiceKraliki.Telephony.Media;
using VoiceKraliki.Telephony.Twiml;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// The TwiML answer to Twilio's voice webhook: an optional announcement, then a bidirectional stream
/// to media-bridge carrying the call's ids, its from/to numbers and a signed, expiring token; or, when
/// the call cannot be taken, a short apology and a hang-up. Always valid TwiML, never an error page.
/// </summary>
public sealed class VoiceResponder
{
    private readonly VoiceResponseOptions _options;
    private readonly StreamTokenService _tokens;

    public VoiceResponder(IOptions<WebhookOptions> options, TimeProvider time)
    {
        _options = options.Value.Voice;
        _tokens = new StreamTokenService(Convert.FromBase64String(_options.StreamTokenSigningKey!), time);
    }

    public string Connect(CallEvent call, string streamUrl)
    {
        var token = _tokens.Issue(TelephonyProvider.Twilio, call.ProviderCallId, call.SessionId, _options.StreamTokenLifetime);
        var parameters = new Dictionary<string, string>
        {
            ["callSid"] = call.ProviderCallId,
            ["direction"] = call.Direction.ToString(),
            ["token"] = token,
        };
        if (call.SessionId is { } session)
        {
            parameters["sessionId"] = session;
        }

        // media-bridge needs the numbers to file a recording under them, so that a data subject's
        // erasure request finds it; they are personal data there and are never logged.
        if (!string.IsNullOrEmpty(call.From))
        {
            parameters["from"] = call.From;
        }

        if (!string.IsNullOrEmpty(call.To))
        {
            parameters["to"] = call.To;
        }

        var response = new TwimlResponse();
        if (!string.IsNullOrWhiteSpace(_options.Announcement))
        {
            response.Say(_options.Announcement, language: _options.Language);
        }

        return response.Connect(new TwimlStream(streamUrl, Parameters: parameters)).ToXml();
    }

    public string Apology() =>
        new TwimlResponse().Say(_options.ApologyText, language: _options.Language).Hangup().ToXml();
}
