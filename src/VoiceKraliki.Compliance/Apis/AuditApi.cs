using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Compliance.Apis;

/// <summary>
/// <c>/api/compliance/audit</c> for compliance officers (and admins): the log's current head (publish it: a head kept
/// elsewhere is what makes a rewrite detectable), a full verification, the entries, and inclusion and consistency
/// proofs (RFC 6962) to check against heads kept earlier. Hashes are lowercase hex. Query values are read as text so
/// that a bad one is answered with a 400 naming it.
/// </summary>
public static class AuditApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/compliance/audit")
            .RequireAuthorization(Policies.ComplianceOfficer)
            .WithTags("Audit")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/head", GetHeadAsync)
            .WithName("GetAuditHead")
            .WithSummary("The log's size and Merkle tree head (its digest), and when that head was computed");

        api.MapGet("/verify", VerifyAsync)
            .WithName("VerifyAuditLog")
            .WithSummary("Recomputes every entry's leaf hash and every stored head from the rows")
            .WithDescription("Always 200: ok=false names the first entry (seq) at which the rows stop matching what was appended, and how.");

        api.MapGet("/entries", GetEntriesAsync)
            .WithName("ListAuditEntries")
            .WithSummary("Entries in seq order from `from` (default 0), `limit` per page (1 to 1000, default 100)")
            .WithDescription("Pass next back as from for the following page; next is null on the last page.");

        api.MapGet("/proofs/inclusion", GetInclusionProofAsync)
            .WithName("GetAuditInclusionProof")
            .WithSummary("The audit path of entry `seq` in the tree of the first `size` entries, and that head's root")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        api.MapGet("/proofs/consistency", GetConsistencyProofAsync)
            .WithName("GetAuditConsistencyProof")
            .WithSummary("The proof that the log of `first` entries is a prefix of the log of `second`, and both heads' roots")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        return api;
    }

    internal static async Task<Ok<AuditHead>> GetHeadAsync(AuditLog log, CancellationToken cancellationToken) =>
        TypedResults.Ok(await log.HeadAsync(cancellationToken));

    internal static async Task<Ok<AuditVerification>> VerifyAsync(AuditLog log, CancellationToken cancellationToken) =>
        TypedResults.Ok(await log.VerifyAsync(cancellationToken));

    internal static async Task<Results<Ok<AuditEntryPage>, ValidationProblem>> GetEntriesAsync(
        [FromQuery(Name = "from")] string? from, [FromQuery(Name = "limit")] string? limit, AuditLog log, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var start = Parse("from", from, 0, errors) ?? 0;
        var pageSize = Parse("limit", limit, 1, errors) ?? DefaultPageSize;
        if (!errors.ContainsKey("limit") && pageSize > MaxPageSize)
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return InvalidQuery(errors);
        }

        return TypedResults.Ok(await log.EntriesAsync(start, (int)pageSize, cancellationToken));
    }

    internal static async Task<Results<Ok<AuditInclusionProof>, ValidationProblem, ProblemHttpResult>> GetInclusionProofAsync(
        [FromQuery(Name = "seq")] string? seq, [FromQuery(Name = "size")] string? size, AuditLog log, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var index = Require("seq", seq, 0, errors);
        var treeSize = Require("size", size, 1, errors);
        if (index is { } i && treeSize is { } s && i >= s)
        {
            errors["seq"] = [$"seq must be less than size ({s}): entry {i} is not in a tree of {s} entries."];
        }

        if (errors.Count > 0)
        {
            return InvalidQuery(errors);
        }

        try
        {
            return TypedResults.Ok(await log.InclusionProofAsync(index!.Value, treeSize!.Value, cancellationToken));
        }
        catch (AuditTreeSizeException e)
        {
            return BeyondHead("size", e);
        }
        catch (AuditLogDamagedException e)
        {
            return Damaged(e);
        }
    }

    internal static async Task<Results<Ok<AuditConsistencyProof>, ValidationProblem, ProblemHttpResult>> GetConsistencyProofAsync(
        [FromQuery(Name = "first")] string? first, [FromQuery(Name = "second")] string? second, AuditLog log, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var firstSize = Require("first", first, 0, errors);
        var secondSize = Require("second", second, 1, errors);
        if (firstSize is { } f && secondSize is { } s && f > s)
        {
            errors["first"] = [$"first must not be greater than second ({s})."];
        }

        if (errors.Count > 0)
        {
            return InvalidQuery(errors);
        }

        try
        {
            return TypedResults.Ok(await log.ConsistencyProofAsync(firstSize!.Value, secondSize!.Value, cancellationToken));
        }
        catch (AuditTreeSizeException e)
        {
            return BeyondHead("second", e);
        }
        catch (AuditLogDamagedException e)
        {
            return Damaged(e);
        }
    }

    private static long? Require(string name, string? text, long min, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            errors[name] = [$"{name} is required: a whole number from {min}."];
            return null;
        }

        return Parse(name, text, min, errors);
    }

    private static long? Parse(string name, string? text, long min, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min)
        {
            errors[name] = [$"{name} must be a whole number from {min}; '{(text.Length <= 32 ? text : text[..32] + "…")}' is not."];
            return null;
        }

        return value;
    }

    private static ValidationProblem InvalidQuery(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "Invalid query parameters");

    private static ProblemHttpResult BeyondHead(string parameter, AuditTreeSizeException e) => TypedResults.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Tree size beyond the log's head",
        detail: $"{parameter}={e.Requested} but the log has {e.HeadSize} entries.",
        extensions: new Dictionary<string, object?> { ["parameter"] = parameter, ["headSize"] = e.HeadSize });

    private static ProblemHttpResult Damaged(AuditLogDamagedException e) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "The audit log is damaged",
        detail: $"{e.Message} GET /api/compliance/audit/verify for the first bad entry.",
        extensions: new Dictionary<string, object?> { ["seq"] = e.Seq });
}
