using System.Globalization;
using System.Text;
using System.Xml;

namespace VoiceKraliki.Telephony.Twiml;

/// <summary>One TwiML element, kept as data until <see cref="TwimlResponse.ToXml"/> writes the document.</summary>
internal sealed class TwimlElement(string name, string? text = null)
{
    private readonly List<KeyValuePair<string, string>> _attributes = [];
    private readonly List<TwimlElement> _children = [];

    public string Name { get; } = name;

    public string? Text { get; } = text is null ? null : XmlSafe(text);

    public TwimlElement Attribute(string attribute, string? value)
    {
        if (value is not null)
        {
            _attributes.Add(new(attribute, XmlSafe(value)));
        }

        return this;
    }

    public TwimlElement Attribute(string attribute, int? value) =>
        Attribute(attribute, value?.ToString(CultureInfo.InvariantCulture));

    public TwimlElement Attribute(string attribute, bool? value) =>
        Attribute(attribute, value is null ? null : value.Value ? "true" : "false");

    public TwimlElement Add(TwimlElement child)
    {
        _children.Add(child);
        return this;
    }

    public void WriteTo(XmlWriter xml)
    {
        xml.WriteStartElement(Name);
        foreach (var (attribute, value) in _attributes)
        {
            xml.WriteAttributeString(attribute, value);
        }

        if (Text is not null)
        {
            xml.WriteString(Text);
        }

        foreach (var child in _children)
        {
            child.WriteTo(xml);
        }

        xml.WriteEndElement();
    }

    // Spoken text may come from callers or a language model; characters XML 1.0 cannot carry (control
    // characters, lone surrogates) are dropped so such text cannot break the document we answer with.
    private static string XmlSafe(string value)
    {
        var firstBad = -1;
        for (var i = 0; i < value.Length; i++)
        {
            if (!IsXmlCharAt(value, i, out var width))
            {
                firstBad = i;
                break;
            }

            i += width - 1;
        }

        if (firstBad < 0)
        {
            return value;
        }

        var safe = new StringBuilder(value.Length).Append(value, 0, firstBad);
        for (var i = firstBad; i < value.Length; i++)
        {
            if (IsXmlCharAt(value, i, out var width))
            {
                safe.Append(value, i, width);
                i += width - 1;
            }
        }

        return safe.ToString();
    }

    private static bool IsXmlCharAt(string value, int index, out int width)
    {
        width = 1;
        var c = value[index];
        if (XmlConvert.IsXmlChar(c))
        {
            return true;
        }

        if (char.IsHighSurrogate(c) && index + 1 < value.Length && XmlConvert.IsXmlSurrogatePair(value[index + 1], c))
        {
            width = 2;
            return true;
        }

        return false;
    }
}
