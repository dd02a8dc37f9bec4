namespace VoiceKraliki.Compliance.Consent;

/// <summary>
/// A consent event as a receipt in the shape of the Kantara Initiative Consent Receipt Specification v1.1 (the fields
/// ISO/IEC TS 27560 carries on): who, controller, jurisdiction, when, how collected, the purpose and its consent
/// type, and how it ends. The principal is the masked number: the full number is not stored.
/// </summary>
public sealed record ConsentReceipt(
    string Version,
    string Jurisdiction,
    long ConsentTimestamp,
    string CollectionMethod,
    Guid ConsentReceiptId,
    string Language,
    string PiiPrincipalId,
    IReadOnlyList<ConsentReceipt.Controller> PiiControllers,
    IReadOnlyList<ConsentReceipt.Service> Services,
    bool Sensitive,
    string Action,
    System.Text.Json.JsonElement Evidence)
{
    public const string SpecVersion = "KI-CR-v1.1.0";

    public sealed record Controller(string PiiController, bool OnBehalf);

    public sealed record Service(string ServiceName, IReadOnlyList<Purpose> Purposes);

    public sealed record Purpose(
        string PurposeText,
        IReadOnlyList<string> PurposeCategory,
        string ConsentType,
        IReadOnlyList<string> PiiCategory,
        bool PrimaryPurpose,
        string Termination,
        bool ThirdPartyDisclosure);

    public static ConsentReceipt Of(ConsentEventView e, string controller) => new(
        SpecVersion,
        e.Jurisdiction,
        e.RecordedAt.ToUnixTimeSeconds(),
        e.Method,
        e.Id,
        "en",
        e.Number,
        [new Controller(controller, OnBehalf: false)],
        [new Service("telephony", [new Purpose(
            e.Purpose,
            [e.Type],
            "EXPLICIT",
            ["voice", "phone number"],
            PrimaryPurpose: true,
            e.Action != ConsentVocabulary.Given ? $"{e.Action} at {e.RecordedAt:O}"
                : e.ExpiresAt is { } end ? $"expires at {end:O}, or when withdrawn"
                : "when withdrawn",
            ThirdPartyDisclosure: false)])],
        Sensitive: false,
        e.Action,
        e.Evidence);
}
