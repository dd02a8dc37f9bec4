using System.Globalization;
using System.Text.Json;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>
/// Realistic call event streams: real Twilio status-callback forms (with <c>SequenceNumber</c> and
/// <c>Timestamp</c>) and real Telnyx envelopes (with <c>occurred_at</c>), through the real parsers, turned into
/// the <see cref="CallEventReceived"/> webhook-ingress publishes. Every call ends.
/// </summary>
internal static class CallEventStreams
{
    private static readonly DateTimeOffset Epoch = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Now, to the second: Postgres keeps microseconds, so generated times round-trip exactly.</summary>
    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    public sealed record Call(string ProviderCallId, IReadOnlyList<CallEventReceived> Events);

    /// <summary>Calls whose events add up to exactly <paramref name="totalEvents"/>, each call's in order.</summary>
    public static IReadOnlyList<Call> Generate(string runTag, int totalEvents, int seed)
    {
        var random = new Random(seed);
        var calls = new List<Call>();
        var remaining = totalEvents;
        while (remaining > 0)
        {
            var index = calls.Count;
            var start = Epoch + TimeSpan.FromSeconds(index * 3 + random.Next(0, 3));
            List<CallEventReceived> events;
            if (remaining <= 16)
            {
                // The last call is an IVR call padded to the exact total.
                events = remaining >= 4 ? TelnyxIvr(random, TelnyxId(runTag, index), start, remaining) : [];
                if (events.Count == 0)
                {
                    // Too few left for a Telnyx IVR call: a short Twilio call of exactly that many.
                    events = Twilio(random, TwilioId(runTag, index), start, remaining switch { 1 => TwilioScenario.InitiatedOnly, 2 => TwilioScenario.Failed, _ => TwilioScenario.Busy });
                }
            }
            else
            {
                events = random.Next(10) switch
                {
                    < 4 => TelnyxIvr(random, TelnyxId(runTag, index), start, random.Next(6, 15)),
                    < 7 => Twilio(random, TwilioId(runTag, index), start, (TwilioScenario)random.Next((int)TwilioScenario.InitiatedOnly)),
                    _ => Telnyx(random, TelnyxId(runTag, index), start, (TelnyxScenario)random.Next(Enum.GetValues<TelnyxScenario>().Length)),
                };
            }

            remaining -= events.Count;
            calls.Add(new Call(events[0].ProviderCallId, events));
        }

        return calls;
    }

    /// <summary>All events as webhook-ingress would see them: interleaved by arrival, each call's in order.</summary>
    public static List<CallEventReceived> InArrivalOrder(IEnumerable<Call> calls) =>
        [.. calls.SelectMany(c => c.Events.Select((e, i) => (e, i))).OrderBy(p => p.e.ReceivedAt).ThenBy(p => p.i).Select(p => p.e)];

    public static List<T> Shuffled<T>(IEnumerable<T> items, int seed)
    {
        var list = items.ToList();
        var random = new Random(seed);
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }

        return list;
    }

    public static string TwilioId(string runTag, int index) => $"CA{runTag}{index:x8}";

    public static string TelnyxId(string runTag, int index) => $"v3:{runTag}-{index:x8}_telnyx-call-control";

    public enum TwilioScenario
    {
        Answered,
        AnsweredWithAmdAndRecording,
        Busy,
        NoAnswer,
        Failed,
        Machine,
        Canceled,
        Inbound,

        // Used only to fill the last call of a stream.
        InitiatedOnly,
    }

    public enum TelnyxScenario
    {
        Answered,
        Busy,
        Hold,
        Transfer,
        RecordingAfterHangup,
        Machine,
        NoAnswer,
        InboundBridged,
    }

    public static List<CallEventReceived> Twilio(Random random, string callSid, DateTimeOffset start, TwilioScenario scenario)
    {
        var inbound = scenario == TwilioScenario.Inbound;
        var customer = RandomNumber(random);
        var ours = "+15005550006";
        var parent = random.Next(4) == 0 ? "CA" + Convert.ToHexString(RandomBytes(random, 16)).ToLowerInvariant() : null;
        var t = start;
        long sequence = 0;
        var callbacks = new List<(string Kind, Dictionary<string, string> Fields, DateTimeOffset At)>();

        Dictionary<string, string> Fields() => new(StringComparer.Ordinal)
        {
            ["AccountSid"] = "AC0123456789abcdef0123456789abcdef",
            ["ApiVersion"] = "2010-04-01",
            ["CallSid"] = callSid,
            ["From"] = inbound ? customer : ours,
            ["To"] = inbound ? ours : customer,
            ["Caller"] = inbound ? customer : ours,
            ["Called"] = inbound ? ours : customer,
            ["Direction"] = inbound ? "inbound" : "outbound-api",
        };

        void Status(string status, params (string Key, string Value)[] extra)
        {
            var fields = Fields();
            fields["CallStatus"] = status;
            fields["SequenceNumber"] = (sequence++).ToString(CultureInfo.InvariantCulture);
            fields["Timestamp"] = t.ToString("r", CultureInfo.InvariantCulture);
            fields["CallbackSource"] = "call-progress-events";
            if (parent is not null)
            {
                fields["ParentCallSid"] = parent;
            }

            foreach (var (key, value) in extra)
            {
                fields[key] = value;
            }

            callbacks.Add(("status", fields, t));
            t += TimeSpan.FromSeconds(random.Next(1, 9));
        }

        void Amd(string answeredBy)
        {
            var fields = Fields();
            fields["AnsweredBy"] = answeredBy;
            fields["MachineDetectionDuration"] = random.Next(800, 4000).ToString(CultureInfo.InvariantCulture);
            callbacks.Add(("amd", fields, t));
            t += TimeSpan.FromSeconds(random.Next(1, 5));
        }

        void Recording()
        {
            var fields = Fields();
            var sid = "RE" + Convert.ToHexString(RandomBytes(random, 16)).ToLowerInvariant();
            fields["RecordingSid"] = sid;
            fields["RecordingUrl"] = $"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/{sid}";
            fields["RecordingStatus"] = "completed";
            fields["RecordingDuration"] = random.Next(5, 300).ToString(CultureInfo.InvariantCulture);
            callbacks.Add(("recording", fields, t));
            t += TimeSpan.FromSeconds(random.Next(1, 5));
        }

        string Duration() => random.Next(5, 600).ToString(CultureInfo.InvariantCulture);

        switch (scenario)
        {
            case TwilioScenario.Answered:
                Status("initiated");
                Status("ringing");
                Status("in-progress");
                Status("completed", ("CallDuration", Duration()));
                break;
            case TwilioScenario.AnsweredWithAmdAndRecording:
                Status("initiated");
                Status("ringing");
                Status("in-progress");
                Amd("human");
                Status("completed", ("CallDuration", Duration()), ("AnsweredBy", "human"));
                Recording();
                break;
            case TwilioScenario.Busy:
                Status("initiated");
                Status("ringing");
                Status("busy", ("SipResponseCode", "486"));
                break;
            case TwilioScenario.NoAnswer:
                Status("initiated");
                Status("ringing");
                Status("no-answer", ("SipResponseCode", "487"));
                break;
            case TwilioScenario.Failed:
                Status("initiated");
                Status("failed", ("SipResponseCode", "404"), ("ErrorCode", "13224"));
                break;
            case TwilioScenario.Machine:
                Status("initiated");
                Status("ringing");
                Status("in-progress");
                Amd("machine_start");
                Status("completed", ("CallDuration", Duration()), ("AnsweredBy", "machine_start"));
                break;
            case TwilioScenario.Canceled:
                Status("initiated");
                Status("ringing");
                Status("canceled");
                break;
            case TwilioScenario.Inbound:
                Status("ringing");
                Status("in-progress");
                Status("completed", ("CallDuration", Duration()));
                break;
            case TwilioScenario.InitiatedOnly:
                Status("failed", ("SipResponseCode", "500"));
                break;
        }

        return [.. callbacks.Select(c =>
        {
            var receivedAt = c.At + TimeSpan.FromMilliseconds(random.Next(40, 900));
            if (!TwilioWebhookParser.TryParse([.. c.Fields], c.Kind, receivedAt, out var parsed, out var error))
            {
                throw new InvalidOperationException($"The generated Twilio {c.Kind} callback does not parse: {error}");
            }

            return ToContract(parsed, receivedAt);
        })];
    }

    public static List<CallEventReceived> Telnyx(Random random, string callControlId, DateTimeOffset start, TelnyxScenario scenario)
    {
        var builder = new TelnyxCall(random, callControlId, start, inbound: scenario == TelnyxScenario.InboundBridged);
        builder.Add("call.initiated", "parked");
        switch (scenario)
        {
            case TelnyxScenario.Answered:
                builder.Add("call.answered", "answered");
                builder.Hangup("normal_clearing");
                break;
            case TelnyxScenario.Busy:
                builder.Hangup("user_busy");
                break;
            case TelnyxScenario.Hold:
                builder.Add("call.answered", "answered");
                builder.Add("call.hold", "answered");
                builder.Add("call.unhold", "answered");
                builder.Hangup("normal_clearing");
                break;
            case TelnyxScenario.Transfer:
                builder.Add("call.answered", "answered");
                builder.Add("call.refer.started", "answered");
                builder.Add("call.refer.completed", "answered");
                builder.Hangup("normal_clearing");
                break;
            case TelnyxScenario.RecordingAfterHangup:
                builder.Add("call.answered", "answered");
                builder.Hangup("normal_clearing");
                builder.RecordingSaved();
                break;
            case TelnyxScenario.Machine:
                builder.Add("call.answered", "answered");
                builder.Add("call.machine.detection.ended", "answered", ("result", "machine"));
                builder.Hangup("normal_clearing");
                break;
            case TelnyxScenario.NoAnswer:
                builder.Hangup("timeout");
                break;
            case TelnyxScenario.InboundBridged:
                builder.Add("call.answered", "answered");
                builder.Add("call.bridged", "answered");
                builder.Hangup("normal_clearing");
                break;
        }

        return builder.Events;
    }

    /// <summary>An IVR call of exactly <paramref name="count"/> (at least 4) events: prompts, digits, then hangup.</summary>
    public static List<CallEventReceived> TelnyxIvr(Random random, string callControlId, DateTimeOffset start, int count)
    {
        string[] media = ["call.speak.started", "call.speak.ended", "call.dtmf.received", "call.gather.ended", "call.playback.started", "call.playback.ended"];
        var builder = new TelnyxCall(random, callControlId, start, inbound: random.Next(2) == 0);
        builder.Add("call.initiated", "parked");
        builder.Add("call.answered", "answered");
        for (var i = 0; i < count - 3; i++)
        {
            var type = media[i % media.Length];
            if (type == "call.dtmf.received")
            {
                builder.Add(type, "answered", ("digit", random.Next(10).ToString(CultureInfo.InvariantCulture)));
            }
            else
            {
                builder.Add(type, "answered");
            }
        }

        builder.Hangup(random.Next(5) == 0 ? "originator_cancel" : "normal_clearing");
        return builder.Events;
    }

    private sealed class TelnyxCall(Random random, string callControlId, DateTimeOffset start, bool inbound)
    {
        private readonly string _session = new Guid(RandomBytes(random, 16)).ToString();
        private readonly string _leg = new Guid(RandomBytes(random, 16)).ToString();
        private readonly string _customer = RandomNumber(random);
        private readonly DateTimeOffset _start = start;
        private DateTimeOffset _t = start;
        private DateTimeOffset? _answeredAt;

        public List<CallEventReceived> Events { get; } = [];

        public void Add(string eventType, string state, params (string Key, object Value)[] extra)
        {
            var payload = new Dictionary<string, object?>
            {
                ["call_control_id"] = callControlId,
                ["call_leg_id"] = _leg,
                ["call_session_id"] = _session,
                ["connection_id"] = "1684641123236054244",
                ["from"] = inbound ? _customer : "+15005550006",
                ["to"] = inbound ? "+15005550006" : _customer,
                ["direction"] = inbound ? "incoming" : "outgoing",
                ["state"] = state,
                ["client_state"] = "aGVsbG8=",
            };
            foreach (var (key, value) in extra)
            {
                payload[key] = value;
            }

            if (eventType == "call.answered")
            {
                _answeredAt ??= _t;
            }

            var envelope = new
            {
                data = new
                {
                    record_type = "event",
                    event_type = eventType,
                    id = Guid.NewGuid().ToString(),
                    occurred_at = _t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                    payload,
                },
                meta = new { attempt = 1, delivered_to = "https://voice.example.com/webhooks/telnyx" },
            };
            var receivedAt = _t + TimeSpan.FromMilliseconds(random.Next(40, 900));
            if (!TelnyxWebhookParser.TryParse(JsonSerializer.SerializeToUtf8Bytes(envelope), receivedAt, out var parsed, out var error))
            {
                throw new InvalidOperationException($"The generated Telnyx {eventType} does not parse: {error}");
            }

            Events.Add(ToContract(parsed, receivedAt));
            _t += TimeSpan.FromMilliseconds(random.Next(150, 6000));
        }

        public void Hangup(string cause) => Add("call.hangup", "hangup",
            ("hangup_cause", cause),
            ("hangup_source", "callee"),
            ("sip_hangup_cause", cause == "user_busy" ? "486" : "200"),
            ("start_time", Rfc3339(_answeredAt ?? _t)),
            ("end_time", Rfc3339(_t)));

        public void RecordingSaved() => Add("call.recording.saved", "hangup",
            ("recording_id", Guid.NewGuid().ToString()),
            ("recording_urls", new Dictionary<string, string> { ["mp3"] = "https://s3.amazonaws.com/telnyx-recordings/r.mp3" }),
            ("recording_started_at", Rfc3339(_start)),
            ("recording_ended_at", Rfc3339(_t)),
            ("channels", "single"));

        private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>What webhook-ingress publishes for a parsed event (WebhookPipeline's mapping).</summary>
    public static CallEventReceived ToContract(CallEvent e, DateTimeOffset receivedAt) => new(
        Guid.NewGuid(),
        e.OccurredAt,
        e.ProviderCallId,
        e.Provider,
        e.ProviderCallId,
        e.SessionId,
        e.EventType,
        e.ProviderStatus,
        e.Status,
        e.EndReason,
        e.From,
        e.To,
        e.Direction,
        e.Sequence,
        e.AnsweredBy,
        e.HangupCause,
        receivedAt,
        e.RawFields,
        e.LegId,
        e.ProviderEventId,
        e.Recording is { } r ? new CallRecording(r.RecordingId, r.Url, r.Duration?.TotalSeconds, r.Status) : null,
        e.ClientState);

    private static string RandomNumber(Random random) =>
        "+1" + random.Next(201, 990).ToString(CultureInfo.InvariantCulture) + random.Next(2_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture);

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
