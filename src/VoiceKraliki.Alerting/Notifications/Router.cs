using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>A route with everything inherited resolved and its matchers parsed.</summary>
public sealed record ResolvedRoute(
    string Name,
    string Path,
    IReadOnlyList<string> Channels,
    IReadOnlyList<LabelMatcher> Matchers,
    IReadOnlyList<string> GroupBy,
    TimeSpan GroupWait,
    TimeSpan GroupInterval,
    TimeSpan RepeatInterval,
    bool Continue,
    IReadOnlyList<ResolvedRoute> Routes)
{
    public const string AllLabels = "...";

    /// <summary>The labels of <paramref name="labels"/> that make its group on this route.</summary>
    public LabelSet GroupLabels(LabelSet labels) => GroupBy.Contains(AllLabels) ? labels : labels.Only(GroupBy);

    /// <summary>The group's key: route path and group labels; stable across restarts and replicas.</summary>
    public string GroupKey(LabelSet groupLabels) => $"{Path}:{groupLabels}";
}

/// <summary>
/// Alertmanager's routing and inhibition over our alerts: which routes take an alert (depth first, first match unless
/// <c>continue</c>; the root when no child matches), and which alerts a firing source alert mutes.
/// </summary>
public sealed class Router
{
    private readonly IReadOnlyList<(IReadOnlyList<LabelMatcher> Source, IReadOnlyList<LabelMatcher> Target, IReadOnlyList<string> Equal)> _inhibitions;

    public Router(IOptions<NotificationOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Root = Resolve(options.Value.Route, null, "0");
        _inhibitions = [.. options.Value.EffectiveInhibitions.Select(i => ((IReadOnlyList<LabelMatcher>)Parse(i.SourceMatchers), (IReadOnlyList<LabelMatcher>)Parse(i.TargetMatchers), (IReadOnlyList<string>)i.Equal))];
    }

    public ResolvedRoute Root { get; }

    /// <summary>The routes that take an alert with these labels; never empty (the root takes what no child does).</summary>
    public IReadOnlyList<ResolvedRoute> Match(LabelSet labels)
    {
        var matched = new List<ResolvedRoute>();
        Match(Root, labels, matched);
        return matched;
    }

    /// <summary>
    /// Whether <paramref name="target"/> is muted by one of the <paramref name="firing"/> alerts: a source matching an
    /// inhibition's source matchers, with the same values of its <c>equal</c> labels, that is not the target itself.
    /// </summary>
    public bool IsInhibited(LabelSet target, IEnumerable<LabelSet> firing)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var (source, targetMatchers, equal) in _inhibitions)
        {
            if (!targetMatchers.All(m => m.Matches(target)))
            {
                continue;
            }

            foreach (var candidate in firing)
            {
                if (!candidate.Equals(target)
                    && source.All(m => m.Matches(candidate))
                    && equal.All(label => (candidate.TryGetValue(label, out var a) ? a : "") == (target.TryGetValue(label, out var b) ? b : "")))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Match(ResolvedRoute route, LabelSet labels, List<ResolvedRoute> matched)
    {
        if (!route.Matchers.All(m => m.Matches(labels)))
        {
            return false;
        }

        var any = false;
        foreach (var child in route.Routes)
        {
            if (Match(child, labels, matched))
            {
                any = true;
                if (!child.Continue)
                {
                    break;
                }
            }
        }

        if (!any)
        {
            matched.Add(route);
        }

        return true;
    }

    private static ResolvedRoute Resolve(RouteOptions route, ResolvedRoute? parent, string path)
    {
        // What the root leaves unset is the default; what a child leaves unset, its parent's.
        var resolved = new ResolvedRoute(
            string.IsNullOrWhiteSpace(route.Name) && parent is null ? "default" : route.Name,
            path,
            route.Channels.Count > 0 ? route.Channels : parent?.Channels ?? ["*"],
            Parse(route.Matchers),
            route.GroupBy ?? parent?.GroupBy ?? NotificationOptions.DefaultGroupBy,
            route.GroupWait ?? parent?.GroupWait ?? NotificationOptions.DefaultGroupWait,
            route.GroupInterval ?? parent?.GroupInterval ?? NotificationOptions.DefaultGroupInterval,
            route.RepeatInterval ?? parent?.RepeatInterval ?? NotificationOptions.DefaultRepeatInterval,
            route.Continue,
            []);
        return resolved with { Routes = [.. route.Routes.Select((child, i) => Resolve(child, resolved, $"{path}.{i}"))] };
    }

    private static List<LabelMatcher> Parse(IEnumerable<string> matchers) =>
        [.. matchers.Select(m => LabelMatcher.TryParse(m, out var matcher, out var error) ? matcher! : throw new InvalidOperationException($"Matcher '{m}': {error}"))];
}
