using System.Xml.Linq;
using VoiceKraliki.Telephony.Twiml;

namespace VoiceKraliki.Telephony.Tests.Twiml;

public class TwimlResponseTests
{
    private static XElement Root(TwimlResponse response)
    {
        var xml = response.ToXml();
        var document = XDocument.Parse(xml);
        Assert.Equal("Response", document.Root!.Name.LocalName);
        return document.Root;
    }

    private static string? Attr(XElement element, string name) => element.Attribute(name)?.Value;

    [Fact]
    public void Empty_response_is_a_utf8_declared_document_with_an_empty_Response()
    {
        var xml = new TwimlResponse().ToXml();

        Assert.Equal("""<?xml version="1.0" encoding="UTF-8"?><Response />""", xml);
        Assert.Equal("UTF-8", XDocument.Parse(xml).Declaration!.Encoding);
    }

    [Fact]
    public void Verbs_appear_in_the_order_they_were_added()
    {
        var root = Root(new TwimlResponse()
            .Say("Hello")
            .Play("https://cdn.example.com/beep.mp3")
            .Pause(2)
            .Redirect("https://voice.example.com/next")
            .Hangup());

        Assert.Equal(["Say", "Play", "Pause", "Redirect", "Hangup"], root.Elements().Select(e => e.Name.LocalName));
    }

    [Fact]
    public void Say_carries_voice_language_and_loop()
    {
        var say = Root(new TwimlResponse().Say("Dobrý den", voice: "Polly.Jacek", language: "cs-CZ", loop: 2)).Element("Say")!;

        Assert.Equal("Dobrý den", say.Value);
        Assert.Equal("Polly.Jacek", Attr(say, "voice"));
        Assert.Equal("cs-CZ", Attr(say, "language"));
        Assert.Equal("2", Attr(say, "loop"));
    }

    [Fact]
    public void Unset_optional_attributes_are_left_out()
    {
        var say = Root(new TwimlResponse().Say("Hi")).Element("Say")!;

        Assert.Empty(say.Attributes());
    }

    [Fact]
    public void Play_loop_and_Pause_length_are_written()
    {
        var root = Root(new TwimlResponse().Play("https://cdn.example.com/hold.mp3", loop: 0).Pause(3));

        Assert.Equal("https://cdn.example.com/hold.mp3", root.Element("Play")!.Value);
        Assert.Equal("0", Attr(root.Element("Play")!, "loop"));
        Assert.Equal("3", Attr(root.Element("Pause")!, "length"));
    }

    [Fact]
    public void Gather_holds_its_prompts_and_attributes()
    {
        var gather = Root(new TwimlResponse().Gather(
            input: "dtmf speech",
            numDigits: 1,
            timeout: 5,
            action: "https://voice.example.com/ivr?step=1&lang=cs",
            method: "post",
            prompts: g => g.Say("Press 1 for sales").Pause(1).Play("https://cdn.example.com/menu.mp3"),
            finishOnKey: "#")).Element("Gather")!;

        Assert.Equal("dtmf speech", Attr(gather, "input"));
        Assert.Equal("1", Attr(gather, "numDigits"));
        Assert.Equal("5", Attr(gather, "timeout"));
        Assert.Equal("https://voice.example.com/ivr?step=1&lang=cs", Attr(gather, "action"));
        Assert.Equal("POST", Attr(gather, "method"));
        Assert.Equal("#", Attr(gather, "finishOnKey"));
        Assert.Equal(["Say", "Pause", "Play"], gather.Elements().Select(e => e.Name.LocalName));
    }

    [Fact]
    public void Dial_number_is_a_transfer_with_its_attributes()
    {
        var dial = Root(new TwimlResponse().DialNumber(
            "+420220000001",
            callerId: "+420220000000",
            timeout: 20,
            action: "https://voice.example.com/dial-done",
            record: "record-from-answer-dual")).Element("Dial")!;

        Assert.Equal("+420220000000", Attr(dial, "callerId"));
        Assert.Equal("20", Attr(dial, "timeout"));
        Assert.Equal("https://voice.example.com/dial-done", Attr(dial, "action"));
        Assert.Equal("record-from-answer-dual", Attr(dial, "record"));
        Assert.Equal("+420220000001", dial.Element("Number")!.Value);
    }

    [Fact]
    public void Dial_can_ring_several_numbers_at_once()
    {
        var dial = Root(new TwimlResponse().Dial(d => d
            .Number("+420220000001")
            .Number("+420220000002", sendDigits: "wwww1928", statusCallback: "https://voice.example.com/s", statusCallbackEvent: "initiated ringing answered completed"))).Element("Dial")!;

        var numbers = dial.Elements("Number").ToList();
        Assert.Equal(2, numbers.Count);
        Assert.Equal("wwww1928", Attr(numbers[1], "sendDigits"));
        Assert.Equal("initiated ringing answered completed", Attr(numbers[1], "statusCallbackEvent"));
    }

    [Fact]
    public void Dial_conference_writes_every_conference_attribute()
    {
        var conference = Root(new TwimlResponse().Dial(d => d.Conference(
            "support-42",
            startConferenceOnEnter: true,
            endConferenceOnExit: false,
            waitUrl: "https://cdn.example.com/wait.xml",
            beep: "onEnter",
            record: "record-from-start",
            statusCallback: "https://voice.example.com/conference",
            statusCallbackEvent: "start end join leave",
            muted: false,
            maxParticipants: 10))).Element("Dial")!.Element("Conference")!;

        Assert.Equal("support-42", conference.Value);
        Assert.Equal("true", Attr(conference, "startConferenceOnEnter"));
        Assert.Equal("false", Attr(conference, "endConferenceOnExit"));
        Assert.Equal("https://cdn.example.com/wait.xml", Attr(conference, "waitUrl"));
        Assert.Equal("onEnter", Attr(conference, "beep"));
        Assert.Equal("record-from-start", Attr(conference, "record"));
        Assert.Equal("https://voice.example.com/conference", Attr(conference, "statusCallback"));
        Assert.Equal("start end join leave", Attr(conference, "statusCallbackEvent"));
        Assert.Equal("false", Attr(conference, "muted"));
        Assert.Equal("10", Attr(conference, "maxParticipants"));
    }

    [Fact]
    public void A_conference_is_the_only_noun_of_its_dial()
    {
        Assert.Throws<InvalidOperationException>(() => new TwimlResponse().Dial(d => d.Number("+1").Conference("room")));
        Assert.Throws<InvalidOperationException>(() => new TwimlResponse().Dial(d => d.Conference("room").Number("+1")));
        Assert.Throws<ArgumentException>(() => new TwimlResponse().Dial(_ => { }));
    }

    [Fact]
    public void Enqueue_and_Record_write_their_attributes()
    {
        var root = Root(new TwimlResponse()
            .Enqueue("support", waitUrl: "https://cdn.example.com/hold.xml", action: "https://voice.example.com/left-queue")
            .Record(action: "https://voice.example.com/recorded", maxLength: 120, playBeep: true, recordingStatusCallback: "https://voice.example.com/webhooks/twilio/recording", timeout: 5));

        var enqueue = root.Element("Enqueue")!;
        Assert.Equal("support", enqueue.Value);
        Assert.Equal("https://cdn.example.com/hold.xml", Attr(enqueue, "waitUrl"));
        Assert.Equal("https://voice.example.com/left-queue", Attr(enqueue, "action"));

        var record = root.Element("Record")!;
        Assert.Equal("https://voice.example.com/recorded", Attr(record, "action"));
        Assert.Equal("120", Attr(record, "maxLength"));
        Assert.Equal("true", Attr(record, "playBeep"));
        Assert.Equal("https://voice.example.com/webhooks/twilio/recording", Attr(record, "recordingStatusCallback"));
        Assert.Equal("5", Attr(record, "timeout"));
    }

    [Fact]
    public void Connect_stream_carries_its_parameters_in_order()
    {
        var stream = new TwimlStream(
            "wss://voice.example.com/media/twilio",
            Name: "agent",
            StatusCallback: "https://voice.example.com/webhooks/twilio/stream",
            Parameters: [new("token", "eyJ2IjoxfQ.sig"), new("campaign", "spring & summer"), new("empty", "")])
        {
            StatusCallbackMethod = "post",
        };

        var connect = Root(new TwimlResponse().Connect(stream, action: "https://voice.example.com/after-stream")).Element("Connect")!;

        Assert.Equal("https://voice.example.com/after-stream", Attr(connect, "action"));
        var element = connect.Element("Stream")!;
        Assert.Equal("wss://voice.example.com/media/twilio", Attr(element, "url"));
        Assert.Equal("agent", Attr(element, "name"));
        Assert.Null(Attr(element, "track"));
        Assert.Equal("https://voice.example.com/webhooks/twilio/stream", Attr(element, "statusCallback"));
        Assert.Equal("POST", Attr(element, "statusCallbackMethod"));
        Assert.Equal(
            [("token", "eyJ2IjoxfQ.sig"), ("campaign", "spring & summer"), ("empty", "")],
            element.Elements("Parameter").Select(p => (Attr(p, "name"), Attr(p, "value"))));
    }

    [Fact]
    public void Start_stream_may_fork_both_tracks_but_connect_only_the_inbound_one()
    {
        var start = Root(new TwimlResponse().Start(new TwimlStream("wss://x.example.com/m", Track: TwimlStream.BothTracks)).Say("Recording")).Element("Start")!;

        Assert.Equal("both_tracks", Attr(start.Element("Stream")!, "track"));
        Assert.Throws<ArgumentException>(() => new TwimlResponse().Connect(new TwimlStream("wss://x.example.com/m", Track: TwimlStream.BothTracks)));
        new TwimlResponse().Connect(new TwimlStream("wss://x.example.com/m", Track: TwimlStream.InboundTrack));
        Assert.Throws<ArgumentException>(() => new TwimlResponse().Start(new TwimlStream("wss://x.example.com/m", Track: "all")));
    }

    [Fact]
    public void Reject_and_Redirect_write_their_options()
    {
        var root = Root(new TwimlResponse().Redirect("https://voice.example.com/next", method: "GET").Reject("busy"));

        Assert.Equal("GET", Attr(root.Element("Redirect")!, "method"));
        Assert.Equal("https://voice.example.com/next", root.Element("Redirect")!.Value);
        Assert.Equal("busy", Attr(root.Element("Reject")!, "reason"));
        Assert.Empty(Root(new TwimlResponse().Reject()).Element("Reject")!.Attributes());
    }

    [Fact]
    public void Markup_characters_in_text_and_attributes_are_escaped()
    {
        const string text = """Tom & Jerry <b>"quoted"</b> 'single' > done""";
        var response = new TwimlResponse()
            .Say(text, voice: "\"><Hangup/><Say a=\"")
            .Redirect("https://voice.example.com/next?a=1&b=<2>");

        var xml = response.ToXml();
        var root = Root(response);

        Assert.Equal(text, root.Element("Say")!.Value);
        Assert.Equal("\"><Hangup/><Say a=\"", Attr(root.Element("Say")!, "voice"));
        Assert.Equal("https://voice.example.com/next?a=1&b=<2>", root.Element("Redirect")!.Value);
        Assert.Null(root.Element("Hangup"));
        Assert.Contains("Tom &amp; Jerry &lt;b&gt;", xml);
        Assert.Contains("&quot;&gt;&lt;Hangup/&gt;", xml);
    }

    [Fact]
    public void Hostile_text_cannot_inject_verbs_or_break_the_document()
    {
        const string hostile = "]]><![CDATA[</Say><Dial>+19005550100</Dial><Say>";
        var root = Root(new TwimlResponse().Say(hostile).Play("javascript:alert(1)\"/><Hangup/>"));

        Assert.Equal(["Say", "Play"], root.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(hostile, root.Element("Say")!.Value);
    }

    [Fact]
    public void Characters_xml_cannot_carry_are_dropped_and_emoji_are_kept()
    {
        var root = Root(new TwimlResponse()
            .Say("a\u0000b\u0007c\uFFFEd\uD800e 😀 tab\tnew\nline")
            .Redirect("https://x.example.com/\u0001"));

        Assert.Equal("abcde 😀 tab\tnew\nline", root.Element("Say")!.Value);
        Assert.Equal("https://x.example.com/", root.Element("Redirect")!.Value);
    }

    [Fact]
    public void Newlines_in_attributes_survive_a_round_trip()
    {
        var stream = new TwimlStream("wss://x.example.com/m", Parameters: [new("note", "line1\nline2\ttab")]);

        var parameter = Root(new TwimlResponse().Connect(stream)).Element("Connect")!.Element("Stream")!.Element("Parameter")!;

        Assert.Equal("line1\nline2\ttab", Attr(parameter, "value"));
    }

    [Fact]
    public void Arguments_twilio_would_refuse_are_refused_here()
    {
        var r = new TwimlResponse();

        Assert.ThrowsAny<ArgumentException>(() => r.Say(null!));
        Assert.ThrowsAny<ArgumentException>(() => r.Say("x", loop: -1));
        Assert.ThrowsAny<ArgumentException>(() => r.Play(""));
        Assert.ThrowsAny<ArgumentException>(() => r.Pause(0));
        Assert.ThrowsAny<ArgumentException>(() => r.Gather(input: "keypad"));
        Assert.ThrowsAny<ArgumentException>(() => r.Gather(numDigits: 0));
        Assert.ThrowsAny<ArgumentException>(() => r.Gather(method: "PUT"));
        Assert.ThrowsAny<ArgumentException>(() => r.DialNumber("+1", record: "always"));
        Assert.ThrowsAny<ArgumentException>(() => r.Dial(d => d.Conference("room", beep: "loud")));
        Assert.ThrowsAny<ArgumentException>(() => r.Enqueue(" "));
        Assert.ThrowsAny<ArgumentException>(() => r.Record(maxLength: 0));
        Assert.ThrowsAny<ArgumentException>(() => r.Reject("nope"));
        Assert.ThrowsAny<ArgumentException>(() => r.Connect(new TwimlStream("")));
        Assert.ThrowsAny<ArgumentException>(() => r.Connect(new TwimlStream("wss://x", Parameters: [new("", "v")])));

        Assert.Equal("""<?xml version="1.0" encoding="UTF-8"?><Response />""", r.ToXml());
    }

    [Fact]
    public void ToString_is_the_document()
    {
        var response = new TwimlResponse().Hangup();

        Assert.Equal(response.ToXml(), response.ToString());
    }
}
