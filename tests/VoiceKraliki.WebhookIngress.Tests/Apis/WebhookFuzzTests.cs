using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Telephony.Signatures;
using VoiceKraliki.WebhookIngress.Tests.Security;
using Xunit.Abstractions;

namespace VoiceKraliki.WebhookIngress.Tests.Apis;

/// <summary>
/// Ten thousand mutated webhooks (bodies, headers, encodings, sizes; some mutated and then correctly
/// signed so that they reach the parsers) through the real service on real Redis and RabbitMQ: every
/// one is answered with a 2xx or a 4xx, never a 5xx, and nothing is logged as an unhandled error.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class WebhookFuzzTests(RedisFixture infrastructure, ITestOutputHelper output)
{
    private const int Requests = 10_000;

    private static readonly string[] ContentTypes =
    [
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "APPLICATION/JSON",
        "application/json; charset=utf-8", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=\"", ";;;", "",
        "application/x-www-form-urlencoded; charset=latin1", "*/*",
    ];

    private static readonly string[] Timestamps = ["", "abc", "-1", "0", "1e10", "99999999999999999999", " 1700000000", "1700000000.5", "١٧٠٠٠٠٠٠٠٠"];

    [Fact]
    public async Task Ten_thousand_mutated_webhooks_get_no_5xx_and_no_unhandled_exception()
    {
        await using var host = new IngressHost(infrastructure.ConnectionString, infrastructure.App.GetConnectionString("messaging"), new Dictionary<string, string?>
        {
            // Keep every request going past the rate limiter so the deeper layers see the mutations.
            ["WebhookSecurity:RateLimit:FailedPerMinute"] = "100000",
            ["WebhookSecurity:RateLimit:TotalPerMinute"] = "100000",
        });
        using var client = host.CreateClient();
        var random = new Random(20261123);
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();

        for (var i = 0; i < Requests; i++)
        {
            var (description, request) = Mutate(random, i);
            using (request)
            {
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request);
                }
                catch (Exception e)
                {
                    failures.Add($"#{i} {description}: {e.GetType().Name}: {e.Message}");
                    continue;
                }

                using (response)
                {
                    var status = (int)response.StatusCode;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (status >= 500)
                    {
                        failures.Add($"#{i} {description}: {status} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }
        }

        output.WriteLine("status counts: " + string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
        Assert.Empty(failures.Take(20));
        Assert.Empty(host.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => e.Message).Take(20));
        Assert.Equal(Requests, statuses.Values.Sum());
        // The mutations reached every layer: accepted, malformed, refused and unsupported all occurred.
        Assert.Contains(204, statuses.Keys);
        Assert.Contains(400, statuses.Keys);
        Assert.Contains(403, statuses.Keys);
        Assert.Contains(415, statuses.Keys);
        Assert.Contains(413, statuses.Keys);
    }

    private static (string Description, HttpRequestMessage Request) Mutate(Random random, int index)
    {
        var callSid = "CA" + index.ToString("x32", System.Globalization.CultureInfo.InvariantCulture)[..32];
        switch (random.Next(10))
        {
            case 0:
            {
                // A valid request with its body mutated after signing.
                var request = IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(callSid, "ringing", index));
                var body = request.Content!.ReadAsByteArrayAsync().Result;
                request.Content = Content(MutateBytes(random, body), "application/x-www-form-urlencoded");
                return ("twilio body mutated after signing", request);
            }

            case 1:
            {
                // Random fields, correctly signed: the parser sees hostile but authentic input.
                var fields = RandomFields(random);
                var kind = random.Next(4) switch { 0 => "voice", 1 => "status", 2 => "recording", _ => "amd" };
                return ($"signed random fields to {kind}", IngressHost.TwilioForm($"/webhooks/twilio/{kind}", fields));
            }

            case 2:
            {
                // Valid fields with one value mutated, correctly signed.
                var fields = IngressHost.StatusFields(callSid, "completed", index);
                var at = random.Next(fields.Length);
                fields[at] = new(fields[at].Key, RandomText(random, random.Next(0, 300)));
                return ("signed valid fields with one value mutated", IngressHost.TwilioForm("/webhooks/twilio/status", fields));
            }

            case 3:
            {
                // Header mutations on a valid request.
                var request = IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(callSid, "in-progress", index));
                request.Headers.Remove(TwilioSignature.HeaderName);
                switch (random.Next(5))
                {
                    case 0: break;
                    case 1: request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, RandomText(random, random.Next(0, 100))); break;
                    case 2: request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, new string('A', random.Next(1, 8000))); break;
                    case 3: request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, ["a", "b"]); break;
                    default: request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, Convert.ToBase64String(RandomBytes(random, 20))); break;
                }

                request.Content!.Headers.ContentType = null;
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentTypes[random.Next(ContentTypes.Length)]);
                return ("twilio headers mutated", request);
            }

            case 4:
            {
                // Telnyx body mutated before signing (authentic) or after (forged).
                var body = IngressHost.TelnyxBody("v3:" + callSid, "call.answered", Guid.NewGuid(), DateTimeOffset.UtcNow);
                var mutated = MutateBytes(random, body);
                if (random.Next(2) == 0)
                {
                    return ("telnyx body mutated then signed", IngressHost.TelnyxRequest(mutated, DateTimeOffset.UtcNow));
                }

                var request = IngressHost.TelnyxRequest(body, DateTimeOffset.UtcNow);
                request.Content = Content(mutated, "application/json");
                return ("telnyx body mutated after signing", request);
            }

            case 5:
            {
                // Telnyx headers: garbage timestamps and signatures.
                var request = IngressHost.TelnyxRequest(IngressHost.TelnyxBody("v3:" + callSid, "call.hangup", Guid.NewGuid(), DateTimeOffset.UtcNow), DateTimeOffset.UtcNow);
                if (random.Next(2) == 0)
                {
                    request.Headers.Remove(TelnyxSignatureVerifier.TimestampHeader);
                    request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.TimestampHeader, Timestamps[random.Next(Timestamps.Length)]);
                }
                else
                {
                    request.Headers.Remove(TelnyxSignatureVerifier.SignatureHeader);
                    request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.SignatureHeader, random.Next(2) == 0
                        ? Convert.ToBase64String(RandomBytes(random, random.Next(0, 128)))
                        : RandomText(random, random.Next(0, 200)));
                }

                return ("telnyx headers mutated", request);
            }

            case 6:
            {
                // Random JSON-ish documents, correctly signed.
                var json = RandomJson(random, depth: 0);
                return ("signed random json to telnyx", IngressHost.TelnyxRequest(Encoding.UTF8.GetBytes(json), DateTimeOffset.UtcNow));
            }

            case 7:
            {
                // Sizes: empty, near and over the limit, chunked or not.
                var size = random.Next(5) switch { 0 => 0, 1 => 64 * 1024, 2 => 64 * 1024 + 1, 3 => random.Next(1, 4096), _ => random.Next(65 * 1024, 300 * 1024) };
                var body = RandomBytes(random, size);
                var path = random.Next(2) == 0 ? "/webhooks/telnyx" : "/webhooks/twilio/status";
                HttpContent content = random.Next(2) == 0 ? new ByteArrayContent(body) : new StreamContent(new MemoryStream(body));
                content.Headers.TryAddWithoutValidation("Content-Type", path.EndsWith("telnyx", StringComparison.Ordinal) ? "application/json" : "application/x-www-form-urlencoded");
                return ($"{size} random bytes to {path}", new HttpRequestMessage(HttpMethod.Post, path) { Content = content });
            }

            case 8:
            {
                // Encodings: invalid UTF-8 and broken percent-escapes, signed over the raw string.
                var raw = random.Next(3) switch
                {
                    0 => "CallSid=%ZZ&CallStatus=ringing",
                    1 => "CallSid=CA1&From=%C3%28&CallStatus=ringing",
                    _ => "CallSid=" + callSid + "&CallStatus=ringing&Caller=%E2%82",
                };
                var bytes = Encoding.UTF8.GetBytes(raw);
                if (random.Next(2) == 0)
                {
                    bytes = [.. bytes, 0xFF, 0xFE, (byte)'=', 0xC0];
                }

                var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/status") { Content = Content(bytes, "application/x-www-form-urlencoded") };
                request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, Convert.ToBase64String(RandomBytes(random, 20)));
                return ("broken encodings", request);
            }

            default:
            {
                // Valid requests (some repeated), so the accept and replay paths run too.
                var sid = random.Next(4) == 0 ? "CA00000000000000000000000000000042" : callSid;
                return ("valid", IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(sid, "ringing", 1)));
            }
        }
    }

    private static KeyValuePair<string, string>[] RandomFields(Random random)
    {
        var fields = new KeyValuePair<string, string>[random.Next(0, 40)];
        for (var i = 0; i < fields.Length; i++)
        {
            var key = random.Next(3) == 0
                ? new[] { "CallSid", "CallStatus", "From", "To", "Direction", "SequenceNumber", "Timestamp", "AnsweredBy", "RecordingSid", "RecordingStatus", "RecordingDuration", "CallDuration" }[random.Next(12)]
                : RandomText(random, random.Next(0, 40));
            fields[i] = new(key, RandomText(random, random.Next(0, random.Next(2) == 0 ? 30 : 2000)));
        }

        return fields;
    }

    private static string RandomJson(Random random, int depth) => (depth > 20 ? 6 : random.Next(9)) switch
    {
        0 => "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 6)).Select(_ => $"\"{Escape(RandomText(random, random.Next(0, 12)))}\":{RandomJson(random, depth + 1)}")) + "}",
        1 => "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 6)).Select(_ => RandomJson(random, depth + 1))) + "]",
        2 => $"{{\"data\":{{\"event_type\":\"call.{Escape(RandomText(random, 8))}\",\"id\":{RandomJson(random, depth + 1)},\"payload\":{RandomJson(random, depth + 1)}}}}}",
        3 => "\"" + Escape(RandomText(random, random.Next(0, 50))) + "\"",
        4 => random.NextDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        5 => new string('[', random.Next(1, 200)),
        6 => random.Next(3) switch { 0 => "true", 1 => "null", _ => "-0e-99999" },
        7 => RandomText(random, random.Next(0, 40)),
        _ => "{\"data\":{\"record_type\":\"event\",\"event_type\":\"call.answered\",\"id\":\"x\",\"occurred_at\":\"" + Escape(RandomText(random, 30)) + "\",\"payload\":{\"call_control_id\":" + RandomJson(random, depth + 1) + "}}}",
    };

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static string RandomText(Random random, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0x20, 0x7F),
                1 => "&=%+?#\0\r\n\t"[random.Next(10)],
                2 => (char)random.Next(0x80, 0x800),
                3 => (char)random.Next(0xD800, 0xDFFF), // lone surrogates
                4 => "é中🙂"[random.Next(3)],
                _ => (char)random.Next('a', 'z' + 1),
            });
        }

        return builder.ToString();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] MutateBytes(Random random, byte[] body)
    {
        var list = body.ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            switch (random.Next(6))
            {
                case 0 when list.Count > 0: list[random.Next(list.Count)] ^= (byte)(1 << random.Next(8)); break;
                case 1: list.InsertRange(random.Next(list.Count + 1), RandomBytes(random, random.Next(1, 16))); break;
                case 2 when list.Count > 1: var at = random.Next(list.Count); list.RemoveRange(at, Math.Min(list.Count - at, random.Next(1, 32))); break;
                case 3: list = list.Take(random.Next(list.Count + 1)).ToList(); break;
                case 4: list.AddRange(list.Take(random.Next(list.Count + 1)).ToList()); break;
                default: if (list.Count > 0) { list[random.Next(list.Count)] = (byte)"%&=+{}[]\"\\"[random.Next(10)]; } break;
            }
        }

        return [.. list];
    }

    private static ByteArrayContent Content(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }
}
