namespace VoiceKraliki.Telephony.Twiml;

/// <summary>The prompts nested in a <c>&lt;Gather&gt;</c>: Twilio allows <c>&lt;Say&gt;</c>, <c>&lt;Play&gt;</c> and <c>&lt;Pause&gt;</c>.</summary>
public sealed class TwimlGather
{
    internal TwimlGather(TwimlElement gather) => Element = gather;

    internal TwimlElement Element { get; }

    public TwimlGather Say(string text, string? voice = null, string? language = null, int? loop = null)
    {
        Element.Add(TwimlVerbs.Say(text, voice, language, loop));
        return this;
    }

    public TwimlGather Play(string url, int? loop = null)
    {
        Element.Add(TwimlVerbs.Play(url, loop));
        return this;
    }

    public TwimlGather Pause(int seconds = 1)
    {
        Element.Add(TwimlVerbs.Pause(seconds));
        return this;
    }
}
