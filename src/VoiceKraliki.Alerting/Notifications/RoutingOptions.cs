using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>
/// One node of the routing tree (Alertmanager's <c>route</c>): alerts matching every matcher go to this route's
/// channels, grouped by <see cref="GroupBy"/>, unless a child route matches first. Children are tried in order; the
/// first that matches takes the alert, and the rest are tried too only when it says <see cref="Continue"/>. Unset
/// timings are inherited from the parent.
/// </summary>
public sealed class RouteOptions
{
    /// <summary>Names the route; notifications say which route (receiver) they came from.</summary>
    public string Name { get; set; } = "";

    /// <summary>Channel names, or <c>*</c> for every channel configured.</summary>
    public List<string> Channels { get; set; } = [];

    /// <summary>Label matchers, Alertmanager syntax: <c>severity=~"high|critical"</c>.</summary>
    public List<string> Matchers { get; set; } = [];

    /// <summary>The labels that make a group; <c>...</c> groups by every label (one alert per group).</summary>
    public List<string>? GroupBy { get; set; }

    public TimeSpan? GroupWait { get; set; }

    public TimeSpan? GroupInterval { get; set; }

    public TimeSpan? RepeatInterval { get; set; }

    public bool Continue { get; set; }

    public List<RouteOptions> Routes { get; set; } = [];
}

/// <summary>Alertmanager's inhibition: a firing alert matching the source mutes alerts matching the target with equal <see cref="Equal"/> labels.</summary>
public sealed class InhibitionOptions
{
    public List<string> SourceMatchers { get; set; } = [];

    public List<string> TargetMatchers { get; set; } = [];

    public List<string> Equal { get; set; } = [];
}

/// <summary>
/// Bound from <c>Alerting:Notifications</c>: the routing tree and the inhibitions. What the root route leaves unset is
/// the default: every channel (<c>*</c>), grouped by rule and provider, with Alertmanager's timings (30 s, 5 min, 4 h).
/// <see cref="DefaultInhibitions"/> (on unless <see cref="UseDefaultInhibitions"/> is false) let a provider's health
/// alert mute that provider's call, quality, webhook and error alerts; configured inhibitions are added to them.
/// Defaults are applied after binding rather than as initial values, because the configuration binder adds configured
/// list items to initial ones instead of replacing them.
/// </summary>
public sealed class NotificationOptions : IValidatableObject
{
    public const string SectionName = "Alerting:Notifications";

    public static readonly IReadOnlyList<string> DefaultGroupBy = ["alertname", "provider"];
    public static readonly TimeSpan DefaultGroupWait = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultGroupInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultRepeatInterval = TimeSpan.FromHours(4);

    public static readonly IReadOnlyList<InhibitionOptions> DefaultInhibitions =
    [
        new()
        {
            SourceMatchers = ["alertname=\"provider_unhealthy\""],
            TargetMatchers = ["alertname=~\"call_quality_low|call_drop_rate_high|webhook_failures_high|webhook_response_time_high|error_rate_high\""],
            Equal = ["provider"],
        },
    ];

    public RouteOptions Route { get; set; } = new();

    public List<InhibitionOptions> Inhibitions { get; set; } = [];

    public bool UseDefaultInhibitions { get; set; } = true;

    /// <summary>The inhibitions in force: the defaults (unless turned off) and the configured ones.</summary>
    public IEnumerable<InhibitionOptions> EffectiveInhibitions => (UseDefaultInhibitions ? DefaultInhibitions : []).Concat(Inhibitions);

    /// <summary>Resolved alerts stay in the notification state this long, so a resolution reaches every channel.</summary>
    public TimeSpan ResolvedRetention { get; set; } = TimeSpan.FromHours(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var errors = new List<ValidationResult>();
        ValidateRoute(Route, $"{SectionName}:Route", root: true, errors);
        for (var i = 0; i < Inhibitions.Count; i++)
        {
            var key = $"{SectionName}:Inhibitions:{i}";
            CheckMatchers(Inhibitions[i].SourceMatchers, $"{key}:SourceMatchers", errors);
            CheckMatchers(Inhibitions[i].TargetMatchers, $"{key}:TargetMatchers", errors);
            if (Inhibitions[i].SourceMatchers.Count == 0 || Inhibitions[i].TargetMatchers.Count == 0)
            {
                errors.Add(new ValidationResult($"{key}: an inhibition needs source and target matchers.", [nameof(Inhibitions)]));
            }
        }

        if (ResolvedRetention < TimeSpan.FromMinutes(1) || ResolvedRetention > TimeSpan.FromDays(1))
        {
            errors.Add(new ValidationResult($"{SectionName}:ResolvedRetention must be between 1 minute and 1 day.", [nameof(ResolvedRetention)]));
        }

        return errors;
    }

    private static void ValidateRoute(RouteOptions route, string key, bool root, List<ValidationResult> errors)
    {
        if (!root && string.IsNullOrWhiteSpace(route.Name))
        {
            errors.Add(new ValidationResult($"{key}:Name must be set.", [nameof(Route)]));
        }

        if (root && route.Matchers.Count > 0)
        {
            errors.Add(new ValidationResult($"{key}:Matchers: the root route takes every alert and has no matchers.", [nameof(Route)]));
        }

        CheckMatchers(route.Matchers, $"{key}:Matchers", errors);
        CheckTime(route.GroupWait, TimeSpan.Zero, TimeSpan.FromHours(1), $"{key}:GroupWait", errors);
        CheckTime(route.GroupInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1), $"{key}:GroupInterval", errors);
        CheckTime(route.RepeatInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30), $"{key}:RepeatInterval", errors);
        for (var i = 0; i < route.Routes.Count; i++)
        {
            ValidateRoute(route.Routes[i], $"{key}:Routes:{i}", root: false, errors);
        }
    }

    private static void CheckMatchers(List<string> matchers, string key, List<ValidationResult> errors)
    {
        for (var i = 0; i < matchers.Count; i++)
        {
            if (!LabelMatcher.TryParse(matchers[i], out _, out var error))
            {
                errors.Add(new ValidationResult($"{key}:{i}: {error}.", [nameof(Route)]));
            }
        }
    }

    private static void CheckTime(TimeSpan? value, TimeSpan min, TimeSpan max, string key, List<ValidationResult> errors)
    {
        if (value is { } v && (v < min || v > max))
        {
            errors.Add(new ValidationResult($"{key} must be between {min} and {max}.", [nameof(Route)]));
        }
    }
}
