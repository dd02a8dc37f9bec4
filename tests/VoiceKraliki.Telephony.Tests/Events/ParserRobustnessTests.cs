using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.Telephony.Tests.Events;

/// <summary>Whatever arrives, the parsers answer true or false with an error; they never throw.</summary>
public class ParserRobustnessTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2025, 6, 10, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] TwilioFieldNames =
    [
        "CallSid", "CallStatus", "AccountSid", "From", "To", "Direction", "Timestamp", "SequenceNumber", "CallDuration",
        "ParentCallSid", "AnsweredBy", "RecordingSid", "RecordingUrl", "RecordingStatus", "RecordingDuration",
        "SipResponseCode", "ErrorCode", "", "x",
    ];

    private static readonly string[] TwilioFieldValues =
    [
        "CA0123456789abcdef0123456789abcdef", "completed", "in-progress", "ringing", "bogus", "", "-1", "0", "61",
        "99999999999999999999", "Tue, 10 Jun 2025 12:00:27 +0000", "Tue, 99 Jun 2025", "machine_start", "human",
        "inbound", "outbound-api", "https://api.twilio.com/r", "\u0000", "\uD800", "<&\"'>",
    ];

    private static readonly string[] Kinds = ["voice", "status", "fallback", "recording", "amd", "gather", "", "VOICE"];

    private static readonly string[] JsonFragments =
    [
        "{", "}", "[", "]", ",", ":", "\"data\"", "\"payload\"", "\"event_type\"", "\"id\"", "\"call_control_id\"",
        "\"occurred_at\"", "\"hangup_cause\"", "\"recording_urls\"", "\"result\"", "\"call.hangup\"",
        "\"call.recording.saved\"", "\"call.machine.detection.ended\"", "\"2025-06-10T12:00:00Z\"", "\"x\"", "1",
        "-1e400", "null", "true", "\"\\u0000\"", "\"\\ud800\"", " ",
    ];

    [Fact]
    public void Random_bytes_never_make_the_telnyx_parser_throw()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes => ParsesOrExplains(bytes));

        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public void Random_json_made_of_envelope_pieces_never_makes_the_telnyx_parser_throw()
    {
        var envelopes = Gen.ArrayOf(Gen.Elements(JsonFragments))
            .Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)))
            .ToArbitrary();
        var property = Prop.ForAll(envelopes, bytes => ParsesOrExplains(bytes));

        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public void Mutated_valid_envelopes_never_make_the_telnyx_parser_throw()
    {
        var valid = Encoding.UTF8.GetBytes("""
            {"data":{"record_type":"event","event_type":"call.recording.saved","id":"e1","occurred_at":"2025-06-10T12:00:00Z",
             "payload":{"call_control_id":"v3:x","recording_urls":{"mp3":"https://r"},"recording_started_at":"2025-06-10T11:00:00Z",
             "recording_ended_at":"2025-06-10T11:01:00Z","hangup_cause":"user_busy","result":"human"}}}
            """);
        var mutations = Gen.ArrayOf(Gen.Zip(Gen.Choose(0, valid.Length - 1), Gen.Choose(0, 255))).ToArbitrary();
        var property = Prop.ForAll(mutations, changes =>
        {
            var body = (byte[])valid.Clone();
            foreach (var (at, value) in changes)
            {
                body[at] = (byte)value;
            }

            return ParsesOrExplains(body);
        });

        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public void Many_seeded_mutations_of_real_envelopes_never_make_the_telnyx_parser_throw()
    {
        var random = new Random(20250610);
        var valid = Encoding.UTF8.GetBytes("""
            {"data":{"record_type":"event","event_type":"call.hangup","id":"e1","occurred_at":"2025-06-10T12:00:00.123456Z",
             "payload":{"call_control_id":"v3:x","call_leg_id":"l","call_session_id":"s","from":"+420777000111","to":"+420220000000",
             "direction":"outgoing","state":"hangup","hangup_cause":"user_busy","start_time":"2025-06-10T11:59:00Z",
             "end_time":"2025-06-10T12:00:00Z","custom_headers":[{"name":"X","value":"1"}],"n":1.5e3,"b":true}}}
            """);

        for (var i = 0; i < 20_000; i++)
        {
            var body = (byte[])valid.Clone();
            var changes = random.Next(1, 4);
            for (var c = 0; c < changes; c++)
            {
                body[random.Next(body.Length)] = (byte)random.Next(256);
            }

            var length = random.Next(4) == 0 ? random.Next(body.Length) : body.Length;
            Assert.True(ParsesOrExplains(body[..length]), Encoding.UTF8.GetString(body[..length]));
        }
    }

    [Fact]
    public void Random_form_pairs_never_make_the_twilio_parser_throw()
    {
        var anyString = ArbMap.Default.GeneratorFor<string>();
        var names = Gen.OneOf(Gen.Elements(TwilioFieldNames), anyString);
        var values = Gen.OneOf(Gen.Elements(TwilioFieldValues), anyString);
        var pairs = Gen.ListOf(Gen.Zip(names, values).Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)));
        var requests = Gen.Zip(pairs, Gen.OneOf(Gen.Elements(Kinds), anyString)).ToArbitrary();

        var property = Prop.ForAll(requests, request =>
        {
            var ok = TwilioWebhookParser.TryParse(request.Item1.ToList(), request.Item2, ReceivedAt, out var callEvent, out var error);
            return ok ? callEvent is not null && error is null : callEvent is null && !string.IsNullOrEmpty(error);
        });

        Check.QuickThrowOnFailure(property);
    }

    private static bool ParsesOrExplains(byte[] bytes)
    {
        var ok = TelnyxWebhookParser.TryParse(bytes ?? [], ReceivedAt, out var callEvent, out var error);
        return ok ? callEvent is not null && error is null : callEvent is null && !string.IsNullOrEmpty(error);
    }
}
