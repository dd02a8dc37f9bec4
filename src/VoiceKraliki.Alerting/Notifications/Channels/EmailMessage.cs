using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// An alert email as RFC 5322 text: CRLF line endings, 7-bit only (a header with non-ASCII text as RFC 2047 encoded
/// words, the UTF-8 body quoted-printable per RFC 2045), lines well under 998 characters. Labels and annotations are
/// written by whoever configures rules, so no value can break a header line.
/// </summary>
internal static partial class EmailMessage
{
    private const int MaxLine = 76;

    /// <summary>An address as SMTP carries it: <c>local@domain</c>, dot-atom ASCII on both sides (no display name, no quoting).</summary>
    public static bool IsAddress(string? text) =>
        text is { Length: > 2 and <= 254 } && AddressPattern().IsMatch(text) && text.IndexOf('@', StringComparison.Ordinal) <= 64;

    public static string Build(Notification notification, string from, IReadOnlyList<string> to, DateTimeOffset now, string messageId)
    {
        var digest = AlertDigest.Of(notification);
        var text = new StringBuilder();
        Header(text, "Date", now.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
        Header(text, "From", from);
        AddressHeader(text, "To", to);
        // Far under the 998-character line limit even when a label value has no space to fold at.
        Header(text, "Subject", AlertDigest.Truncate(digest.Title, 250));
        Header(text, "Message-ID", messageId);
        Header(text, "MIME-Version", "1.0");
        Header(text, "Content-Type", "text/plain; charset=utf-8");
        Header(text, "Content-Transfer-Encoding", "quoted-printable");
        // RFC 3834: an automatic message, so that vacation responders stay quiet.
        Header(text, "Auto-Submitted", "auto-generated");
        text.Append("\r\n");
        text.Append(QuotedPrintable(Body(notification, digest)));
        return text.ToString();
    }

    /// <summary>
    /// A <c>Message-ID</c> under the sender's domain (RFC 5322 §3.6.4). Random, so that a retried delivery is a new
    /// message only to a receiver that keeps nothing; a mail server deduplicating by id would see the same one.
    /// </summary>
    public static string NewMessageId(string from) =>
        $"<{Guid.CreateVersion7():N}.alert@{from[(from.LastIndexOf('@') + 1)..]}>";

    internal static string Body(Notification notification, AlertDigest digest)
    {
        var body = new StringBuilder();
        body.Append(digest.Title).Append('\n').Append('\n');
        body.Append("Receiver: ").Append(AlertDigest.OneLine(notification.Receiver)).Append('\n');
        body.Append("Status: ").Append(notification.Status)
            .Append(CultureInfo.InvariantCulture, $" ({digest.Firing.Count} firing, {digest.Resolved.Count} resolved)\n");
        body.Append("Severity: ").Append(AlertDigest.OneLine(digest.Severity)).Append('\n');
        if (digest.Summary.Length > 0)
        {
            body.Append("Summary: ").Append(AlertDigest.OneLine(digest.Summary)).Append('\n');
        }

        if (digest.RunbookUrl is { } runbook)
        {
            body.Append("Runbook: ").Append(runbook.AbsoluteUri).Append('\n');
        }

        // A description is a paragraph: kept as written, line breaks and all.
        if (digest.CommonAnnotations.TryGetValue(AlertDigest.DescriptionAnnotation, out var description) && description.Length > 0)
        {
            body.Append('\n').Append(description).Append('\n');
        }

        Alerts(body, "Firing", digest.Firing, digest);
        Alerts(body, "Resolved", digest.Resolved, digest);

        body.Append('\n').Append("Group: ").Append(AlertDigest.OneLine(notification.GroupLabels.ToString())).Append('\n');
        if (notification.ExternalUrl is { } external)
        {
            body.Append("Alerting: ").Append(external.AbsoluteUri).Append('\n');
        }

        return body.ToString();
    }

    private static void Alerts(StringBuilder body, string heading, IReadOnlyList<NotifiedAlert> alerts, AlertDigest digest)
    {
        if (alerts.Count == 0)
        {
            return;
        }

        body.Append('\n').Append(CultureInfo.InvariantCulture, $"{heading} ({alerts.Count})").Append('\n');
        foreach (var alert in alerts)
        {
            var name = alert.Labels.TryGetValue(AlertSnapshot.AlertNameLabel, out var n) ? n : alert.RuleName;
            body.Append("* ").Append(AlertDigest.OneLine(name)).Append(" [").Append(AlertDigest.OneLine(alert.Severity)).Append("] value ")
                .Append(AlertDigest.FormatValue(alert.Value)).Append(", since ").Append(AlertDigest.Rfc3339(alert.StartsAt));
            if (alert.EndsAt is { } ended)
            {
                body.Append(", ended ").Append(AlertDigest.Rfc3339(ended));
            }

            body.Append('\n');
            body.Append("  Labels: ").Append(AlertDigest.OneLine(alert.Labels.ToString())).Append('\n');
            foreach (var (key, value) in alert.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                if (key == AlertDigest.DescriptionAnnotation && digest.CommonAnnotations.ContainsKey(key))
                {
                    continue;
                }

                body.Append("  ").Append(AlertDigest.OneLine(key)).Append(": ").Append(value.ReplaceLineEndings("\n    ")).Append('\n');
            }

            if (alert.Acknowledgement is { } ack)
            {
                body.Append("  Acknowledged by ").Append(AlertDigest.OneLine(ack.By)).Append(" at ").Append(AlertDigest.Rfc3339(ack.At));
                if (!string.IsNullOrWhiteSpace(ack.Note))
                {
                    body.Append(": ").Append(AlertDigest.OneLine(ack.Note));
                }

                body.Append('\n');
            }
        }
    }

    private static void Header(StringBuilder text, string name, string value)
    {
        value = AlertDigest.OneLine(value).Trim();
        if (value.All(char.IsAscii))
        {
            Fold(text, name, value.Split(' ', StringSplitOptions.RemoveEmptyEntries), " ");
            return;
        }

        Fold(text, name, EncodedWords(value), " ");
    }

    private static void AddressHeader(StringBuilder text, string name, IReadOnlyList<string> addresses) =>
        Fold(text, name, [.. addresses.Select((a, i) => i < addresses.Count - 1 ? a + "," : a)], " ");

    /// <summary>Writes <c>name: word word …</c>, starting a continuation line (CRLF + space) before a word that would pass 76.</summary>
    private static void Fold(StringBuilder text, string name, IReadOnlyList<string> words, string separator)
    {
        text.Append(name).Append(':');
        var lineLength = name.Length + 1;
        foreach (var word in words)
        {
            if (lineLength + separator.Length + word.Length > MaxLine && lineLength > name.Length + 1)
            {
                text.Append("\r\n");
                lineLength = 0;
            }

            text.Append(separator).Append(word);
            lineLength += separator.Length + word.Length;
        }

        text.Append("\r\n");
    }

    /// <summary>
    /// RFC 2047 "B" encoded words of at most 75 characters each, every one holding whole UTF-8 characters (§5: a
    /// character is never split between words). Adjacent encoded words are joined without the space between them.
    /// </summary>
    internal static List<string> EncodedWords(string value)
    {
        const string prefix = "=?utf-8?B?";
        const string suffix = "?=";
        const int maxBytes = (75 - 12) / 4 * 3; // 45 bytes → 60 base64 characters
        var words = new List<string>();
        var chunk = new List<byte>(maxBytes);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            var length = rune.EncodeToUtf8(utf8);
            if (chunk.Count + length > maxBytes)
            {
                words.Add(prefix + Convert.ToBase64String([.. chunk]) + suffix);
                chunk.Clear();
            }

            for (var i = 0; i < length; i++)
            {
                chunk.Add(utf8[i]);
            }
        }

        if (chunk.Count > 0)
        {
            words.Add(prefix + Convert.ToBase64String([.. chunk]) + suffix);
        }

        return words;
    }

    /// <summary>
    /// Quoted-printable (RFC 2045 §6.7) of the UTF-8 text, with CRLF hard line breaks and soft breaks (<c>=</c> CRLF)
    /// keeping every line at most 76 characters; trailing spaces and tabs are encoded so no transport can strip them.
    /// </summary>
    internal static string QuotedPrintable(string text)
    {
        var output = new StringBuilder(text.Length + (text.Length / 8));
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var l = 0; l < lines.Length; l++)
        {
            if (l == lines.Length - 1 && lines[l].Length == 0)
            {
                break;
            }

            var bytes = Encoding.UTF8.GetBytes(lines[l]);
            var lineLength = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                var last = i == bytes.Length - 1;
                var literal = (b is >= 33 and <= 126 && b != (byte)'=') || ((b == (byte)' ' || b == (byte)'\t') && !last);
                var piece = literal ? ((char)b).ToString() : $"={b:X2}";

                // Room for the piece plus a soft break's '=' (unless this is the line's last piece).
                if (lineLength + piece.Length > (last ? MaxLine : MaxLine - 1))
                {
                    output.Append("=\r\n");
                    lineLength = 0;
                }

                output.Append(piece);
                lineLength += piece.Length;
            }

            output.Append("\r\n");
        }

        return output.ToString();
    }

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex AddressPattern();
}
