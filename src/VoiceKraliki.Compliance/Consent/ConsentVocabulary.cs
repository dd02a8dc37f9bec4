using System.Collections.Frozen;

namespace VoiceKraliki.Compliance.Consent;

/// <summary>
/// The words a consent event is recorded in, as they appear in the API, the database and <c>ConsentChanged</c>
/// (snake_case). Anything else is refused with the list of what is accepted.
/// </summary>
public static class ConsentVocabulary
{
    public const string Recording = "recording";
    public const string Transcription = "transcription";
    public const string AiProcessing = "ai_processing";
    public const string DataStorage = "data_storage";
    public const string Marketing = "marketing";
    public const string Analytics = "analytics";

    public const string Given = "given";
    public const string Withdrawn = "withdrawn";
    public const string Expired = "expired";

    public static readonly FrozenSet<string> Types = FrozenSet.Create(StringComparer.Ordinal,
        Recording, Transcription, AiProcessing, DataStorage, Marketing, Analytics);

    public static readonly FrozenSet<string> Actions = FrozenSet.Create(StringComparer.Ordinal, Given, Withdrawn, Expired);

    /// <summary>How consent was collected (Kantara's collection method): what a regulator asks to see.</summary>
    public static readonly FrozenSet<string> Methods = FrozenSet.Create(StringComparer.Ordinal,
        "ivr_keypress", "verbal", "web_form", "written", "contract", "sms", "email", "api", "data_subject_request");

    /// <summary>The types listed in order, for error messages and exports.</summary>
    public static IReadOnlyList<string> TypeList { get; } = [Recording, Transcription, AiProcessing, DataStorage, Marketing, Analytics];

    public static string Describe(IEnumerable<string> words) => string.Join(", ", words.Order(StringComparer.Ordinal));
}
