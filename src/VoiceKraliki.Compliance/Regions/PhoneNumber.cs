using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VoiceKraliki.Compliance.Regions;

/// <summary>
/// A phone number in E.164 form ('+', then 8 to 15 digits, the first not 0) whose country calling code ITU-T has
/// assigned. Only strict E.164 is accepted, with no spaces or separators, because providers send that form and a
/// lenient parser would have to guess, and a wrong guess picks the wrong consent rule.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> returns <see cref="Masked"/>, so a number dropped into a log line or an exception message
/// does not leak; use <see cref="Value"/> where the full number is really meant.
/// </remarks>
public sealed class PhoneNumber : IEquatable<PhoneNumber>
{
    /// <summary>
    /// The shortest key <see cref="Hash"/> accepts. Phone numbers are few enough to enumerate, so the hash is only as
    /// private as its key is hard to guess.
    /// </summary>
    public const int MinimumHashKeyLength = 16;

    private const int MinDigits = 8;
    private const int MaxDigits = 15;
    private const string FormatRule = "it must be E.164: '+' then 8 to 15 digits";

    private readonly int _callingCodeLength;

    private PhoneNumber(string value, int callingCodeLength)
    {
        Value = value;
        _callingCodeLength = callingCodeLength;
        CallingCode = int.Parse(value.AsSpan(1, callingCodeLength), CultureInfo.InvariantCulture);
    }

    /// <summary>The number in E.164 form, e.g. "+14155550123".</summary>
    public string Value { get; }

    /// <summary>The ITU-T E.164 country calling code, e.g. 1 or 44.</summary>
    public int CallingCode { get; }

    /// <summary>The digits after the country calling code.</summary>
    public string NationalNumber => Value[(1 + _callingCodeLength)..];

    /// <summary>The number with every digit but the last four replaced by '*', e.g. "+*******0123", for logs.</summary>
    public string Masked => Mask(Value);

    /// <summary>
    /// Parses <paramref name="text"/> as E.164 after trimming surrounding whitespace. On failure
    /// <paramref name="error"/> says what is wrong without repeating the number.
    /// </summary>
    /// <exception cref="InvalidDataException">The embedded calling-code table is broken (a build defect).</exception>
    public static bool TryParse(
        string? text,
        [MaybeNullWhen(false)] out PhoneNumber number,
        [NotNullWhen(false)] out string? error) =>
        TryParse(text, RegionData.Embedded, out number, out error);

    /// <exception cref="FormatException">The text is not an E.164 number with an assigned country calling code.</exception>
    public static PhoneNumber Parse(string text) =>
        TryParse(text, out var number, out var error) ? number : throw new FormatException(error);

    /// <summary>
    /// A lowercase hex HMAC-SHA256 of <see cref="Value"/>, to refer to a number in events and logs without the number:
    /// the same number and key always give the same hash.
    /// </summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinimumHashKeyLength"/> bytes.</exception>
    public string Hash(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumHashKeyLength)
        {
            throw new ArgumentException(
                $"The key is {key.Length} bytes; at least {MinimumHashKeyLength} are needed, as phone numbers are few enough to try them all.",
                nameof(key));
        }

        Span<byte> text = stackalloc byte[1 + MaxDigits];
        var length = Encoding.ASCII.GetBytes(Value, text);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, text[..length], mac);
        return Convert.ToHexStringLower(mac);
    }

    public bool Equals(PhoneNumber? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as PhoneNumber);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <summary>The masked number: see the remarks on the type.</summary>
    public override string ToString() => Masked;

    /// <summary>Masks any text meant as a phone number: a leading '+' stays, all but the last four characters become '*'.</summary>
    internal static string Mask(string text) => VoiceKraliki.Telephony.Numbers.PhoneMask.Mask(text);

    internal static bool TryParse(
        string? text,
        RegionData data,
        [MaybeNullWhen(false)] out PhoneNumber number,
        [NotNullWhen(false)] out string? error)
    {
        number = null;
        error = Check(text.AsSpan().Trim(), data, out var callingCodeLength);
        if (error is not null)
        {
            return false;
        }

        number = new PhoneNumber(text!.Trim(), callingCodeLength);
        return true;
    }

    private static string? Check(ReadOnlySpan<char> text, RegionData data, out int callingCodeLength)
    {
        callingCodeLength = 0;
        if (text.IsEmpty)
        {
            return $"The phone number is empty; {FormatRule}.";
        }

        if (text[0] != '+')
        {
            return $"The phone number does not start with '+'; {FormatRule}.";
        }

        var digits = text[1..];
        foreach (var c in digits)
        {
            if (char.IsAsciiDigit(c))
            {
                continue;
            }

            var what = c switch
            {
                _ when char.IsWhiteSpace(c) => "a space",
                '-' or '.' or '(' or ')' or '/' => $"the separator '{c}'",
                '+' => "a second '+'",
                _ when char.IsLetter(c) => "a letter",
                _ => $"the character U+{(int)c:X4}",
            };
            return $"The phone number contains {what}; {FormatRule}, with no spaces, separators or other characters.";
        }

        if (digits.Length is < MinDigits or > MaxDigits)
        {
            return $"The phone number has {digits.Length} digits; {FormatRule}.";
        }

        if (digits[0] == '0')
        {
            return $"The phone number starts with '+0', and no country calling code starts with 0; {FormatRule}, the first not 0.";
        }

        callingCodeLength = data.CallingCodeLength(digits);
        if (callingCodeLength == 0)
        {
            return $"The phone number's country calling code is not assigned in ITU-T E.164: none of +{digits[..1]}, +{digits[..2]}, +{digits[..3]} is.";
        }

        return null;
    }
}
