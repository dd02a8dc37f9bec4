namespace VoiceKraliki.Telephony.Numbers;

/// <summary>
/// How every service shows a phone number to people and logs: every digit but the last four replaced by <c>*</c>,
/// everything else (the <c>+</c>, a <c>sip:</c> prefix, separators) kept, so <c>+14155550123</c> reads
/// <c>+*******0123</c>. A text with four digits or fewer shows them.
/// </summary>
public static class PhoneMask
{
    public const int VisibleDigits = 4;

    public static string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
        }

        var hidden = Math.Max(0, digits - VisibleDigits);
        return string.Create(text.Length, (text, hidden), static (span, state) =>
        {
            var masked = 0;
            for (var i = 0; i < state.text.Length; i++)
            {
                var c = state.text[i];
                span[i] = char.IsAsciiDigit(c) && masked++ < state.hidden ? '*' : c;
            }
        });
    }
}
