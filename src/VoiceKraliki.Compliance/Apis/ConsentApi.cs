using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Compliance.Apis;

/// <summary>
/// <c>/api/compliance/consents</c>: consent events recorded by compliance officers (append-only; withdrawal is one
/// call), the current state per number for services, and a Kantara-style receipt per event. docs/compliance.md.
/// </summary>
public static class ConsentApi
{
    private static readonly JsonElement EmptyEvidence = JsonSerializer.SerializeToElement(new Dictionary<string, string>());

    /// <summary>Services read consent state; compliance officers and admins too.</summary>
    public const string ReadPolicy = "compliance:consent-read";

    public static IEndpointRouteBuilder MapConsentApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/compliance/consents")
            .WithTags("Consent")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapPost("", RecordAsync)
            .RequireAuthorization(Policies.ComplianceOfficer)
            .WithName("RecordConsentEvent")
            .WithSummary("Records a consent event (given, withdrawn or expired) for a number and a type");

        api.MapPost("/withdrawals", WithdrawAsync)
            .RequireAuthorization(Policies.ComplianceOfficer)
            .WithName("WithdrawConsent")
            .WithSummary("Withdraws the listed consent types for a number, or every type given, in one call");

        api.MapGet("", GetStateAsync)
            .RequireAuthorization(ReadPolicy)
            .WithName("GetConsentState")
            .WithSummary("The current state per type and every event, for ?phoneNumber=")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/events/{id:guid}", GetEventAsync)
            .RequireAuthorization(ReadPolicy)
            .WithName("GetConsentEvent")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/events/{id:guid}/receipt", GetReceiptAsync)
            .RequireAuthorization(ReadPolicy)
            .WithName("GetConsentReceipt")
            .WithSummary("The event as a consent receipt (Kantara Consent Receipt v1.1 fields)")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return endpoints;
    }

    /// <summary>The body of <c>POST /api/compliance/consents</c>. Unset <c>jurisdiction</c>: the number's region.</summary>
    public sealed record ConsentEventRequest(
        string? PhoneNumber,
        string? Type,
        string? Action,
        string? Jurisdiction,
        string? Method,
        JsonElement? Evidence,
        string? Purpose,
        DateTimeOffset? ExpiresAt);

    /// <summary>The body of <c>POST /api/compliance/consents/withdrawals</c>. No <c>types</c>: every type now given.</summary>
    public sealed record WithdrawalRequest(string? PhoneNumber, IReadOnlyList<string>? Types, string? Method, JsonElement? Evidence, string? Purpose);

    public sealed record Withdrawal(string Number, IReadOnlyList<ConsentEventView> Withdrawn);

    internal static async Task<Results<Created<ConsentEventView>, ValidationProblem, ProblemHttpResult>> RecordAsync(
        [FromBody] ConsentEventRequest request,
        ClaimsPrincipal user,
        ConsentStore store,
        RegionDirectory regions,
        IOptions<ComplianceOptions> options,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var semantic = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var number = ParseNumber(request.PhoneNumber, errors);
        var type = OneOf(request.Type, "type", ConsentVocabulary.Types, errors);
        var action = request.Action is null ? ConsentVocabulary.Given : OneOf(request.Action, "action", ConsentVocabulary.Actions, errors);
        var method = OneOf(request.Method, "method", ConsentVocabulary.Methods, errors);
        var purpose = Text(request.Purpose, "purpose", 500, errors, required: true);
        var jurisdiction = Text(request.Jurisdiction, "jurisdiction", 64, errors, required: false);
        var evidence = Evidence(request.Evidence, options.Value.MaxEvidenceBytes, errors, semantic);
        if (request.ExpiresAt is { } expiresAt)
        {
            if (action != ConsentVocabulary.Given)
            {
                errors["expiresAt"] = ["Only a given consent has an expiry."];
            }
            else if (expiresAt <= timeProvider.GetUtcNow())
            {
                semantic["expiresAt"] = [$"The expiry {expiresAt:O} is in the past."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (semantic.Count > 0)
        {
            return Unprocessable(semantic, "The consent event cannot be recorded.");
        }

        var phone = number!;
        var e = new NewConsentEvent(phone, type!, action!, jurisdiction ?? Jurisdiction(regions.Lookup(phone)), method!, evidence,
            purpose!, request.ExpiresAt?.ToUniversalTime());
        var recorded = await store.RecordAsync(phone, [e], Actor(user), cancellationToken);
        return TypedResults.Created($"/api/compliance/consents/events/{recorded[0].Id}", recorded[0]);
    }

    internal static async Task<Results<Ok<Withdrawal>, ValidationProblem, ProblemHttpResult>> WithdrawAsync(
        [FromBody] WithdrawalRequest request,
        ClaimsPrincipal user,
        ConsentStore store,
        RegionDirectory regions,
        IOptions<ComplianceOptions> options,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var semantic = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var number = ParseNumber(request.PhoneNumber, errors);
        var method = OneOf(request.Method, "method", ConsentVocabulary.Methods, errors);
        var purpose = Text(request.Purpose, "purpose", 500, errors, required: false) ?? "Withdrawal at the data subject's request";
        var evidence = Evidence(request.Evidence, options.Value.MaxEvidenceBytes, errors, semantic);
        var unknown = request.Types?.Where(t => !ConsentVocabulary.Types.Contains(t)).ToList() ?? [];
        if (unknown.Count > 0)
        {
            errors["types"] = [$"Unknown consent type(s) {string.Join(", ", unknown)}; the types are {ConsentVocabulary.Describe(ConsentVocabulary.Types)}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (semantic.Count > 0)
        {
            return Unprocessable(semantic, "The withdrawal cannot be recorded.");
        }

        var phone = number!;
        var types = request.Types is { Count: > 0 } listed
            ? listed.Distinct(StringComparer.Ordinal).ToList()
            : await store.GivenTypesAsync(phone, cancellationToken);
        var jurisdiction = Jurisdiction(regions.Lookup(phone));
        var events = types.Select(t => new NewConsentEvent(phone, t, ConsentVocabulary.Withdrawn, jurisdiction, method!, evidence, purpose, null)).ToList();
        var recorded = await store.RecordAsync(phone, events, Actor(user), cancellationToken);
        return TypedResults.Ok(new Withdrawal(phone.Masked, recorded));
    }

    internal static async Task<Results<Ok<ConsentState>, ValidationProblem, ProblemHttpResult>> GetStateAsync(
        string? phoneNumber, ConsentStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var number = ParseNumber(phoneNumber, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var phone = number!;
        return await store.StateAsync(phone, cancellationToken) is { } state
            ? TypedResults.Ok(state)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No consent recorded for this number.",
                detail: $"Nothing was ever recorded for {phone.Masked}: every type is 'none'.");
    }

    internal static async Task<Results<Ok<ConsentEventView>, ProblemHttpResult>> GetEventAsync(Guid id, ConsentStore store, CancellationToken cancellationToken) =>
        await store.EventAsync(id, cancellationToken) is { } found ? TypedResults.Ok(found) : EventNotFound(id);

    internal static async Task<Results<Ok<ConsentReceipt>, ProblemHttpResult>> GetReceiptAsync(
        Guid id, ConsentStore store, IOptions<ComplianceOptions> options, CancellationToken cancellationToken) =>
        await store.EventAsync(id, cancellationToken) is { } found
            ? TypedResults.Ok(ConsentReceipt.Of(found, options.Value.Controller))
            : EventNotFound(id);

    private static ProblemHttpResult EventNotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such consent event.", detail: $"No consent event {id}.");

    /// <summary>Well-formed but not acceptable (an expiry in the past, evidence too large): 422, naming the field.</summary>
    private static ProblemHttpResult Unprocessable(Dictionary<string, string[]> errors, string title) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status422UnprocessableEntity, Title = title });

    private static string Actor(ClaimsPrincipal user) => user.Identity?.Name ?? "unknown";

    /// <summary>The jurisdiction a consent is recorded under when none is given: region, and state or country.</summary>
    public static string Jurisdiction(RegionLookup region) =>
        !region.Known ? "UNKNOWN"
        : region.Subdivision is { } subdivision ? $"{region.Country}-{subdivision}"
        : region.Country is { } country && region.Region.ToString() != country ? $"{region.Region}-{country}"
        : region.Region.ToString();

    private static PhoneNumber? ParseNumber(string? text, Dictionary<string, string[]> errors)
    {
        if (PhoneNumber.TryParse(text, out var number, out var error))
        {
            return number;
        }

        errors["phoneNumber"] = [error ?? "Must be an E.164 number."];
        return null;
    }

    private static string? OneOf(string? value, string field, IReadOnlySet<string> allowed, Dictionary<string, string[]> errors)
    {
        if (value is not null && allowed.Contains(value))
        {
            return value;
        }

        errors[field] = [value is null
            ? $"Required: one of {ConsentVocabulary.Describe(allowed)}."
            : $"Unknown {field} '{(value.Length > 64 ? value[..64] + "…" : value)}'; one of {ConsentVocabulary.Describe(allowed)}."];
        return null;
    }

    private static string? Text(string? value, string field, int maxLength, Dictionary<string, string[]> errors, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                errors[field] = ["Required."];
            }

            return null;
        }

        if (value.Length > maxLength)
        {
            errors[field] = [$"At most {maxLength} characters; it has {value.Length}."];
            return null;
        }

        return value.Trim();
    }

    private static JsonElement Evidence(JsonElement? value, int maxBytes, Dictionary<string, string[]> errors, Dictionary<string, string[]> semantic)
    {
        if (value is not { } evidence || evidence.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return EmptyEvidence;
        }

        if (evidence.ValueKind != JsonValueKind.Object)
        {
            errors["evidence"] = ["Must be a JSON object, e.g. {\"callId\": \"CA…\", \"digits\": \"1\"}."];
            return default;
        }

        var size = System.Text.Encoding.UTF8.GetByteCount(evidence.GetRawText());
        if (size > maxBytes)
        {
            semantic["evidence"] = [$"At most {maxBytes} bytes of JSON; it has {size}. Store large evidence elsewhere and refer to it."];
        }

        return evidence;
    }
}
