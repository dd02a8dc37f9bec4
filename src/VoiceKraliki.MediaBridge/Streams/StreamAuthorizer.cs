using System.Text;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Quality;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// Decides whether a started stream is one we asked for: it must carry a stream token (issued by webhook-ingress) that
/// is genuine, unexpired, and vouches for this provider and this call id (Twilio <c>CallSid</c>, Telnyx
/// <c>call_control_id</c>). The token is looked for, in order, in the start's custom parameters (<c>token</c>: Twilio's
/// <c>&lt;Parameter name="token"&gt;</c>), in the upgrade's query string (<c>?token=</c>: the Telnyx <c>stream_url</c>), and
/// in Telnyx <c>client_state</c> (base64 of the token itself). Tokens are secrets: nothing here logs one.
/// </summary>
internal sealed class StreamAuthorizer(StreamTokenService tokens)
{
    public const string TokenParameter = "token";

    public StreamOutcome? Authorize(TelephonyProvider provider, StreamStart start, string? queryToken, out StreamTokenClaims? claims)
    {
        claims = null;
        var token = FindToken(start, queryToken);
        if (token is null)
        {
            return StreamOutcome.TokenMissing;
        }

        switch (tokens.Validate(token, out var valid))
        {
            case StreamTokenValidation.Valid when valid!.Provider == provider && string.Equals(valid.CallId, start.CallId, StringComparison.Ordinal):
                claims = valid;
                return null;
            case StreamTokenValidation.Valid:
                return StreamOutcome.TokenMismatch;
            case StreamTokenValidation.Expired:
                return StreamOutcome.TokenExpired;
            default:
                return StreamOutcome.TokenInvalid;
        }
    }

    /// <summary>The close reason for a refused token: says what is wrong, never the token.</summary>
    public static string Reason(StreamOutcome outcome) => outcome switch
    {
        StreamOutcome.TokenMissing => "missing stream token",
        StreamOutcome.TokenExpired => "expired stream token",
        StreamOutcome.TokenMismatch => "stream token is not for this call",
        _ => "invalid stream token",
    };

    private static string? FindToken(StreamStart start, string? queryToken)
    {
        if (start.CustomParameters.TryGetValue(TokenParameter, out var parameter) && !string.IsNullOrEmpty(parameter))
        {
            return parameter;
        }

        if (!string.IsNullOrEmpty(queryToken))
        {
            return queryToken;
        }

        if (start.ClientState is { Length: > 0 and <= StreamTokenService.MaxTokenLength * 2 } state)
        {
            var bytes = new byte[state.Length];
            if (Convert.TryFromBase64String(state, bytes, out var written))
            {
                var text = Encoding.UTF8.GetString(bytes, 0, written);
                return text.Contains('.', StringComparison.Ordinal) ? text : null;
            }
        }

        return null;
    }
}
