using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Apis;

/// <summary>
/// The query of <c>GET /api/calls</c>, bound as text so that every bad value is answered with a 400 that names its
/// parameter (binding to typed parameters would answer a bare 400).
/// </summary>
public sealed class CallListParameters
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
    private const int MaxNumberLength = 256;

    [FromQuery(Name = "status")]
    [Description("Only calls in this state: initiated, ringing, answered, on_hold, transferring, completed, failed (case-insensitive; OnHold also works).")]
    public string? Status { get; init; }

    [FromQuery(Name = "provider")]
    [Description("Only calls of this provider: twilio or telnyx.")]
    public string? Provider { get; init; }

    [FromQuery(Name = "direction")]
    [Description("Only calls in this direction: inbound, outbound or unknown.")]
    public string? Direction { get; init; }

    [FromQuery(Name = "from")]
    [Description("Only calls from this number or SIP address, exactly as stored (E.164 for phone numbers).")]
    public string? From { get; init; }

    [FromQuery(Name = "to")]
    [Description("Only calls to this number or SIP address, exactly as stored.")]
    public string? To { get; init; }

    [FromQuery(Name = "since")]
    [Description("Only calls created at or after this time (ISO 8601; UTC when no offset is given).")]
    public string? Since { get; init; }

    [FromQuery(Name = "until")]
    [Description("Only calls created before this time (ISO 8601; UTC when no offset is given).")]
    public string? Until { get; init; }

    [FromQuery(Name = "limit")]
    [Description("Calls per page, 1 to 500; default 50.")]
    public string? Limit { get; init; }

    [FromQuery(Name = "cursor")]
    [Description("The nextCursor of the previous page; omit for the first page.")]
    public string? Cursor { get; init; }

    /// <summary>The filter, or the errors by parameter name.</summary>
    public bool TryParse(out CallListFilter filter, out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var status = ParseEnum<CallStatus>("status", Status, errors);
        var provider = ParseEnum<TelephonyProvider>("provider", Provider, errors);
        var direction = ParseEnum<CallDirection>("direction", Direction, errors);
        var from = ParseNumber("from", From, errors);
        var to = ParseNumber("to", To, errors);
        var since = ParseTime("since", Since, errors);
        var until = ParseTime("until", Until, errors);
        if (since is { } s && until is { } u && u < s)
        {
            errors["until"] = ["until must not be before since."];
        }

        var limit = DefaultLimit;
        if (!string.IsNullOrEmpty(Limit)
            && (!int.TryParse(Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {MaxLimit}."];
        }

        CallCursor? after = null;
        if (!string.IsNullOrEmpty(Cursor))
        {
            if (CallCursor.TryDecode(Cursor, out var cursor))
            {
                after = cursor;
            }
            else
            {
                errors["cursor"] = ["cursor is not a nextCursor this API returned."];
            }
        }

        filter = new CallListFilter(status, provider, direction, from, to, since, until, limit, after);
        return errors.Count == 0;
    }

    private static TEnum? ParseEnum<TEnum>(string name, string? text, Dictionary<string, string[]> errors) where TEnum : struct, Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (string.Equals(text, DbEnum<TEnum>.ToDb(value), StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, value.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        errors[name] = [$"'{Shorten(text)}' is not a {name}; use one of: {string.Join(", ", Enum.GetValues<TEnum>().Select(DbEnum<TEnum>.ToDb))}."];
        return null;
    }

    private static string? ParseNumber(string name, string? text, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length > MaxNumberLength)
        {
            errors[name] = [$"{name} may be at most {MaxNumberLength} characters long."];
            return null;
        }

        return text;
    }

    private static DateTimeOffset? ParseTime(string name, string? text, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUniversalTime();
        }

        errors[name] = [$"'{Shorten(text)}' is not a time; use ISO 8601, e.g. 2025-06-10T12:00:00Z."];
        return null;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>A validated <see cref="CallListParameters"/>.</summary>
public sealed record CallListFilter(
    CallStatus? Status,
    TelephonyProvider? Provider,
    CallDirection? Direction,
    string? From,
    string? To,
    DateTimeOffset? Since,
    DateTimeOffset? Until,
    int Limit,
    CallCursor? After);
