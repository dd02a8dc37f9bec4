namespace VoiceKraliki.Telephony.Providers;

internal static class DtmfDigits
{
    /// <summary>0-9, <c>*</c>, <c>#</c>, and <c>w</c> (half a second) / <c>W</c> (one second) for pauses: what both providers accept.</summary>
    public static void Validate(string digits)
    {
        ArgumentException.ThrowIfNullOrEmpty(digits);
        foreach (var c in digits)
        {
            if (!(char.IsAsciiDigit(c) || c is '*' or '#' or 'w' or 'W'))
            {
                throw new ArgumentException("DTMF digits may hold only 0-9, *, # and w/W (pauses).", nameof(digits));
            }
        }
    }
}
