namespace VoiceKraliki.Telephony.Twiml;

/// <summary>Builds the verbs that appear both at the top level and nested (Say, Play, Pause), and checks enumerated attributes.</summary>
internal static class TwimlVerbs
{
    public static TwimlElement Say(string text, string? voice, string? language, int? loop)
    {
        ArgumentNullException.ThrowIfNull(text);
        NonNegative(loop, nameof(loop));
        return new TwimlElement("Say", text)
            .Attribute("voice", voice)
            .Attribute("language", language)
            .Attribute("loop", loop);
    }

    public static TwimlElement Play(string url, int? loop)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        NonNegative(loop, nameof(loop));
        return new TwimlElement("Play", url).Attribute("loop", loop);
    }

    public static TwimlElement Pause(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        return new TwimlElement("Pause").Attribute("length", seconds);
    }

    public static TwimlElement Stream(TwimlStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream.Url, nameof(stream));
        OneOf(stream.Track, nameof(stream), TwimlStream.InboundTrack, TwimlStream.OutboundTrack, TwimlStream.BothTracks);
        var element = new TwimlElement("Stream")
            .Attribute("url", stream.Url)
            .Attribute("name", stream.Name)
            .Attribute("track", stream.Track)
            .Attribute("statusCallback", stream.StatusCallback)
            .Attribute("statusCallbackMethod", Method(stream.StatusCallbackMethod, nameof(stream)));
        foreach (var (name, value) in stream.Parameters ?? [])
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(stream));
            element.Add(new TwimlElement("Parameter").Attribute("name", name).Attribute("value", value ?? string.Empty));
        }

        return element;
    }

    /// <summary>Upper-cases an HTTP method; only GET and POST are TwiML methods.</summary>
    public static string? Method(string? method, string parameter)
    {
        if (method is null)
        {
            return null;
        }

        var upper = method.ToUpperInvariant();
        return upper is "GET" or "POST"
            ? upper
            : throw new ArgumentException($"The method must be GET or POST, not '{method}'.", parameter);
    }

    public static void OneOf(string? value, string parameter, params string[] allowed)
    {
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            throw new ArgumentException($"'{value}' is not one of {string.Join(", ", allowed)}.", parameter);
        }
    }

    public static void NonNegative(int? value, string parameter)
    {
        if (value is < 0)
        {
            throw new ArgumentOutOfRangeException(parameter, value, "Must not be negative.");
        }
    }

    public static void Positive(int? value, string parameter)
    {
        if (value is <= 0)
        {
            throw new ArgumentOutOfRangeException(parameter, value, "Must be positive.");
        }
    }
}
