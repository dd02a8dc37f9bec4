using System.Text;
using System.Xml;

namespace VoiceKraliki.Telephony.Twiml;

/// <summary>
/// Builds the TwiML document a Twilio voice webhook answers with:
/// <c>&lt;?xml version="1.0" encoding="UTF-8"?&gt;&lt;Response&gt;…&lt;/Response&gt;</c>, verbs in the order they were added.
/// </summary>
/// <remarks>
/// Every text and attribute is escaped by <see cref="XmlWriter"/>; characters XML 1.0 cannot carry are dropped.
/// Arguments Twilio would refuse (an unknown <c>track</c>, a negative <c>loop</c>, a method other than GET/POST…)
/// throw <see cref="ArgumentException"/> here rather than fail the call at Twilio.
/// </remarks>
public sealed class TwimlResponse
{
    private readonly List<TwimlElement> _verbs = [];

    /// <param name="loop">How many times to repeat; 0 repeats until the call ends.</param>
    public TwimlResponse Say(string text, string? voice = null, string? language = null, int? loop = null) =>
        Add(TwimlVerbs.Say(text, voice, language, loop));

    /// <param name="loop">How many times to repeat; 0 repeats until the call ends.</param>
    public TwimlResponse Play(string url, int? loop = null) => Add(TwimlVerbs.Play(url, loop));

    public TwimlResponse Pause(int seconds = 1) => Add(TwimlVerbs.Pause(seconds));

    /// <param name="input"><c>dtmf</c>, <c>speech</c> or <c>dtmf speech</c>.</param>
    /// <param name="prompts">What to play while gathering: nested Say, Play and Pause.</param>
    public TwimlResponse Gather(
        string input = "dtmf",
        int? numDigits = null,
        int? timeout = null,
        string? action = null,
        string? method = null,
        Action<TwimlGather>? prompts = null,
        string? finishOnKey = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        foreach (var part in input.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            TwimlVerbs.OneOf(part, nameof(input), "dtmf", "speech");
        }

        TwimlVerbs.Positive(numDigits, nameof(numDigits));
        TwimlVerbs.Positive(timeout, nameof(timeout));
        var gather = new TwimlElement("Gather")
            .Attribute("input", input)
            .Attribute("numDigits", numDigits)
            .Attribute("timeout", timeout)
            .Attribute("finishOnKey", finishOnKey)
            .Attribute("action", action)
            .Attribute("method", TwimlVerbs.Method(method, nameof(method)));
        prompts?.Invoke(new TwimlGather(gather));
        return Add(gather);
    }

    /// <summary><c>&lt;Dial&gt;</c> with the nouns <paramref name="targets"/> adds: numbers (transfer) or one conference.</summary>
    /// <param name="record"><c>do-not-record</c>, <c>record-from-answer</c>, <c>record-from-ringing</c>, or their <c>-dual</c> forms.</param>
    public TwimlResponse Dial(
        Action<TwimlDial> targets,
        string? callerId = null,
        int? timeout = null,
        string? action = null,
        string? method = null,
        string? record = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        TwimlVerbs.Positive(timeout, nameof(timeout));
        TwimlVerbs.OneOf(
            record,
            nameof(record),
            "do-not-record",
            "record-from-answer",
            "record-from-ringing",
            "record-from-answer-dual",
            "record-from-ringing-dual");
        var dial = new TwimlDial(new TwimlElement("Dial")
            .Attribute("callerId", callerId)
            .Attribute("timeout", timeout)
            .Attribute("action", action)
            .Attribute("method", TwimlVerbs.Method(method, nameof(method)))
            .Attribute("record", record));
        targets(dial);
        if (dial.Count == 0)
        {
            throw new ArgumentException("A <Dial> needs at least one <Number> or a <Conference>.", nameof(targets));
        }

        return Add(dial.Element);
    }

    /// <summary>Transfers the caller to one number.</summary>
    public TwimlResponse DialNumber(string number, string? callerId = null, int? timeout = null, string? action = null, string? record = null) =>
        Dial(d => d.Number(number), callerId, timeout, action, record: record);

    /// <summary>Puts the caller in a queue (our hold); <paramref name="waitUrl"/> serves what they hear meanwhile.</summary>
    public TwimlResponse Enqueue(string name, string? waitUrl = null, string? action = null, string? method = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Add(new TwimlElement("Enqueue", name)
            .Attribute("waitUrl", waitUrl)
            .Attribute("action", action)
            .Attribute("method", TwimlVerbs.Method(method, nameof(method))));
    }

    /// <param name="maxLength">Longest recording in seconds.</param>
    /// <param name="timeout">Seconds of silence that end the recording.</param>
    public TwimlResponse Record(
        string? action = null,
        int? maxLength = null,
        bool? playBeep = null,
        string? recordingStatusCallback = null,
        int? timeout = null,
        string? finishOnKey = null,
        string? method = null)
    {
        TwimlVerbs.Positive(maxLength, nameof(maxLength));
        TwimlVerbs.NonNegative(timeout, nameof(timeout));
        return Add(new TwimlElement("Record")
            .Attribute("action", action)
            .Attribute("method", TwimlVerbs.Method(method, nameof(method)))
            .Attribute("maxLength", maxLength)
            .Attribute("timeout", timeout)
            .Attribute("finishOnKey", finishOnKey)
            .Attribute("playBeep", playBeep)
            .Attribute("recordingStatusCallback", recordingStatusCallback));
    }

    /// <summary>
    /// <c>&lt;Connect&gt;&lt;Stream&gt;</c>: a bidirectional media stream; the call stays in it until the socket closes,
    /// then goes to <paramref name="action"/>. Twilio accepts only <c>inbound_track</c> here.
    /// </summary>
    public TwimlResponse Connect(TwimlStream stream, string? action = null, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.Track is not null && stream.Track != TwimlStream.InboundTrack)
        {
            throw new ArgumentException("<Connect><Stream> only supports track=\"inbound_track\".", nameof(stream));
        }

        return Add(new TwimlElement("Connect")
            .Attribute("action", action)
            .Attribute("method", TwimlVerbs.Method(method, nameof(method)))
            .Add(TwimlVerbs.Stream(stream)));
    }

    /// <summary><c>&lt;Start&gt;&lt;Stream&gt;</c>: a one-way copy of the call's audio; TwiML goes on with the next verb.</summary>
    public TwimlResponse Start(TwimlStream stream) => Add(new TwimlElement("Start").Add(TwimlVerbs.Stream(stream)));

    public TwimlResponse Hangup() => Add(new TwimlElement("Hangup"));

    public TwimlResponse Redirect(string url, string? method = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        return Add(new TwimlElement("Redirect", url).Attribute("method", TwimlVerbs.Method(method, nameof(method))));
    }

    /// <param name="reason"><c>rejected</c> (the default at Twilio) or <c>busy</c>.</param>
    public TwimlResponse Reject(string? reason = null)
    {
        TwimlVerbs.OneOf(reason, nameof(reason), "rejected", "busy");
        return Add(new TwimlElement("Reject").Attribute("reason", reason));
    }

    public string ToXml()
    {
        var document = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?>""");
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, ConformanceLevel = ConformanceLevel.Document };
        using (var xml = XmlWriter.Create(document, settings))
        {
            xml.WriteStartElement("Response");
            foreach (var verb in _verbs)
            {
                verb.WriteTo(xml);
            }

            xml.WriteEndElement();
        }

        return document.ToString();
    }

    public override string ToString() => ToXml();

    private TwimlResponse Add(TwimlElement verb)
    {
        _verbs.Add(verb);
        return this;
    }
}
