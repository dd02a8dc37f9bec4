using System.Globalization;
using VoiceKraliki.Simulator.Calls;
using VoiceKraliki.Simulator.Webhooks;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator.Twilio;

/// <summary>
/// Twilio's status callbacks: a form POST to the call's StatusCallback for each requested event
/// (<c>initiated, ringing, answered, completed</c>; only <c>completed</c> when none were named), signed
/// with <c>X-Twilio-Signature</c> over the URL without its fragment. Retries follow the URL's
/// <c>#rc=</c> fragment (0–5), else <see cref="TwilioSimulatorOptions.DefaultRetryCount"/>; every attempt
/// carries the same <c>I-Twilio-Idempotency-Token</c>.
/// </summary>
internal sealed class TwilioCallbacks(TwilioSimulatorOptions options, WebhookSender sender, TimeProvider time) : ICallNotifier
{
    private readonly TwilioRequestSigner _signer = new(options.AuthToken);

    public async Task NotifyAsync(SimulatedCall call, CallStage stage, CancellationToken cancellationToken)
    {
        var eventName = stage switch
        {
            CallStage.Initiated => "initiated",
            CallStage.Ringing => "ringing",
            CallStage.Answered => "answered",
            _ => "completed",
        };
        if (call.StatusCallback is null || !call.StatusCallbackEvents.Contains(eventName))
        {
            return;
        }

        var (url, retries) = SplitFragment(call.StatusCallback, options.DefaultRetryCount);
        var fields = BuildFields(call, stage);
        var signature = _signer.Sign(url, fields);
        var body = FormBody.Encode(fields);
        var token = $"{call.Id}-{fields.First(f => f.Key == "SequenceNumber").Value}";
        await sender.DeliverAsync(url, $"twilio {eventName}", _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, signature);
            request.Headers.TryAddWithoutValidation("I-Twilio-Idempotency-Token", token);
            request.Headers.TryAddWithoutValidation("User-Agent", "TwilioProxy/1.1");
            return request;
        }, retries + 1, options.RetryDelay, cancellationToken);
    }

    private List<KeyValuePair<string, string>> BuildFields(SimulatedCall call, CallStage stage)
    {
        lock (call.Gate)
        {
            var fields = new List<KeyValuePair<string, string>>
            {
                new("AccountSid", call.AccountSid),
                new("ApiVersion", TwilioApi.ApiVersion),
                new("CallSid", call.Id),
                new("CallStatus", call.Status),
                new("Called", call.To),
                new("Caller", call.From),
                new("CallbackSource", "call-progress-events"),
                new("Direction", "outbound-api"),
                new("From", call.From),
                new("SequenceNumber", call.NextSequenceNumber.ToString(CultureInfo.InvariantCulture)),
                new("Timestamp", TwilioApi.FormatDate(time.GetUtcNow())),
                new("To", call.To),
            };
            call.NextSequenceNumber++;
            if (call.AnsweredBy is not null && stage is CallStage.Answered or CallStage.Ended)
            {
                fields.Add(new("AnsweredBy", call.AnsweredBy));
            }

            if (stage == CallStage.Ended)
            {
                var seconds = call.StartedAt is { } start && call.EndedAt is { } end ? (int)Math.Round((end - start).TotalSeconds) : 0;
                fields.Add(new("CallDuration", seconds.ToString(CultureInfo.InvariantCulture)));
                fields.Add(new("Duration", ((seconds + 59) / 60).ToString(CultureInfo.InvariantCulture)));
            }

            return fields;
        }
    }

    /// <summary>The URL Twilio calls (no fragment) and the retry count the fragment asks for.</summary>
    internal static (string Url, int Retries) SplitFragment(string url, int defaultRetries)
    {
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        if (hash < 0)
        {
            return (url, defaultRetries);
        }

        var retries = defaultRetries;
        foreach (var pair in url[(hash + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.StartsWith("rc=", StringComparison.Ordinal)
                && int.TryParse(pair.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var rc))
            {
                retries = Math.Clamp(rc, 0, 5);
            }
        }

        return (url[..hash], retries);
    }
}
