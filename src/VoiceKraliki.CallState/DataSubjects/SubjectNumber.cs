using System.Text.RegularExpressions;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.DataSubjects;

/// <summary>
/// The phone number a data-subject request is about, and how call-state finds it: <c>from_number</c> or
/// <c>to_number</c> equal to the E.164 number, or a <c>sip:</c>/<c>sips:</c>/<c>tel:</c> address whose user part is it.
/// </summary>
public static partial class SubjectNumber
{
    /// <summary>The service name in every answer to a data-subject request.</summary>
    public const string ServiceName = "call-state";

    /// <summary>
    /// Matches a stored SIP or tel address of the number; <c>{0}</c> is the digits. Case-insensitive (<c>~*</c>), so
    /// <c>SIP:</c> matches too; the user part must end at <c>@</c>, <c>;</c> or the end, so a longer number never matches.
    /// </summary>
    private const string AddressPattern = @"^(sips?|tel):\+{0}([@;]|$)";

    /// <summary>True for <c>+</c> and 8 to 15 digits, the first not 0 (what the compliance service sends).</summary>
    public static bool IsE164(string? number) => number is not null && E164().IsMatch(number);

    /// <summary>The number's digits, without the <c>+</c>: what must not be left anywhere after erasure.</summary>
    public static string Digits(string number) => number[1..];

    /// <summary>All digits but the last four replaced by <c>*</c>, keeping the <c>+</c>: <c>+*******0123</c>.</summary>
    public static string Mask(string number) => VoiceKraliki.Telephony.Numbers.PhoneMask.Mask("+" + Digits(number));

    /// <summary>The POSIX regular expression (for <c>~*</c>) that matches a SIP or tel address of the number.</summary>
    public static string AddressRegex(string number) => string.Format(System.Globalization.CultureInfo.InvariantCulture, AddressPattern, Digits(number));

    /// <summary>
    /// The answer's event id: the same for the same request, every time (a name-based UUID, RFC 9562 §5.8 layout), so a
    /// redelivered request produces the same event and the receiver's inbox keeps one.
    /// </summary>
    public static Guid CompletionEventId(string kind, Guid requestId) => NameBasedGuid.Create($"{ServiceName}/{kind}/{requestId:D}");

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}$", RegexOptions.CultureInvariant)]
    private static partial Regex E164();
}
