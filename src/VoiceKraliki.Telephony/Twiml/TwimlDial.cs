namespace VoiceKraliki.Telephony.Twiml;

/// <summary>The nouns of a <c>&lt;Dial&gt;</c>: one or more <c>&lt;Number&gt;</c>s (rung together), or a <c>&lt;Conference&gt;</c>.</summary>
public sealed class TwimlDial
{
    internal TwimlDial(TwimlElement dial) => Element = dial;

    internal TwimlElement Element { get; }

    internal int Count { get; private set; }

    private bool _hasConference;

    public TwimlDial Number(string number, string? sendDigits = null, string? url = null, string? statusCallback = null, string? statusCallbackEvent = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(number);
        if (_hasConference)
        {
            throw new InvalidOperationException("A <Dial> with a <Conference> cannot also ring a <Number>.");
        }

        Element.Add(new TwimlElement("Number", number)
            .Attribute("sendDigits", sendDigits)
            .Attribute("url", url)
            .Attribute("statusCallbackEvent", statusCallbackEvent)
            .Attribute("statusCallback", statusCallback));
        Count++;
        return this;
    }

    /// <param name="beep"><c>true</c>, <c>false</c>, <c>onEnter</c> or <c>onExit</c>.</param>
    /// <param name="record"><c>do-not-record</c> or <c>record-from-start</c>.</param>
    /// <param name="statusCallbackEvent">Space-separated: <c>start end join leave mute hold modify speaker announcement</c>.</param>
    public TwimlDial Conference(
        string name,
        bool? startConferenceOnEnter = null,
        bool? endConferenceOnExit = null,
        string? waitUrl = null,
        string? beep = null,
        string? record = null,
        string? statusCallback = null,
        string? statusCallbackEvent = null,
        bool? muted = null,
        int? maxParticipants = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (Count > 0)
        {
            throw new InvalidOperationException("A <Conference> must be the only noun of its <Dial>.");
        }

        TwimlVerbs.OneOf(beep, nameof(beep), "true", "false", "onEnter", "onExit");
        TwimlVerbs.OneOf(record, nameof(record), "do-not-record", "record-from-start");
        if (maxParticipants is not null)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxParticipants.Value, 2, nameof(maxParticipants));
        }

        Element.Add(new TwimlElement("Conference", name)
            .Attribute("startConferenceOnEnter", startConferenceOnEnter)
            .Attribute("endConferenceOnExit", endConferenceOnExit)
            .Attribute("waitUrl", waitUrl)
            .Attribute("beep", beep)
            .Attribute("record", record)
            .Attribute("statusCallback", statusCallback)
            .Attribute("statusCallbackEvent", statusCallbackEvent)
            .Attribute("muted", muted)
            .Attribute("maxParticipants", maxParticipants));
        _hasConference = true;
        Count++;
        return this;
    }
}
