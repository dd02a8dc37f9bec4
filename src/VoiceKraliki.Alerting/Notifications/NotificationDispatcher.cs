using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>Sends one notification to one channel, retrying as the channel allows; returns the final result and how many tries it took.</summary>
public interface INotificationDelivery
{
    Task<(DeliveryResult Result, int Attempts)> DeliverAsync(ChannelConfig channel, Notification notification, CancellationToken cancellationToken);
}

/// <summary>
/// Alertmanager's dispatcher over our alerts, run by the leading replica on every evaluation. Each alert goes to the
/// routes that match it and into the group its labels make there; silenced and inhibited alerts are left out. For each
/// group and channel, the notification log says what the channel already knows, and the dispatcher sends only:
/// <list type="bullet">
/// <item>a new group, once it is <c>group_wait</c> old;</item>
/// <item>a changed group (alerts fired, resolved or were all acknowledged) once <c>group_interval</c> has passed since
/// the last notification;</item>
/// <item>an unchanged firing group again after <c>repeat_interval</c>;</item>
/// <item>a group whose alerts have all resolved at once (not after <c>group_interval</c>, the Alertmanager delay users
/// complain of), when the channel wants resolutions.</item>
/// </list>
/// Deliveries run in the background, one at a time per group and channel, so a slow or failing channel never holds up
/// the others or the next evaluation. The log is written after each delivery.
/// </summary>
public sealed partial class NotificationDispatcher(
    Router router,
    ChannelStore channels,
    SilenceStore silences,
    NotificationLog log,
    INotificationDelivery delivery,
    IOptions<AlertingOptions> options,
    TimeProvider time,
    ILogger<NotificationDispatcher> logger)
{
    private readonly ConcurrentDictionary<(string GroupKey, Guid ChannelId), Task> _inFlight = new();
    private readonly Dictionary<string, DateTimeOffset> _groupFirstSeen = new(StringComparer.Ordinal);
    private ConcurrentDictionary<(string GroupKey, Guid ChannelId), LogEntry>? _log;

    /// <summary>Deliveries still running (tests and shutdown wait for them).</summary>
    public Task Idle => Task.WhenAll(_inFlight.Values);

    /// <summary>Forgets in-memory state (this replica stopped leading); the log is read again when it leads next.</summary>
    public void Reset()
    {
        _log = null;
        _groupFirstSeen.Clear();
    }

    /// <summary>
    /// One round: <paramref name="alerts"/> are every firing alert and those resolved recently (so their resolution
    /// can be told). Returns the notifications started.
    /// </summary>
    public async Task<int> DispatchAsync(IReadOnlyList<AlertSnapshot> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        _log ??= new ConcurrentDictionary<(string, Guid), LogEntry>(await log.LoadAsync(cancellationToken));
        var now = time.GetUtcNow();
        var activeSilences = await silences.ActiveAsync(cancellationToken);
        var firingLabels = alerts.Where(a => a.State == AlertState.Firing).Select(a => a.Labels).ToList();
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        foreach (var alert in alerts)
        {
            var muted = alert.State == AlertState.Firing
                        && (activeSilences.Any(s => s.Mutes(alert.Labels)) || router.IsInhibited(alert.Labels, firingLabels));
            foreach (var route in router.Match(alert.Labels))
            {
                var groupLabels = route.GroupLabels(alert.Labels);
                var key = route.GroupKey(groupLabels);
                if (!groups.TryGetValue(key, out var group))
                {
                    group = groups[key] = new Group(key, route, groupLabels, []);
                }

                group.Members.Add((alert, muted));
            }
        }

        foreach (var stale in _groupFirstSeen.Keys.Where(k => !groups.ContainsKey(k)).ToList())
        {
            _groupFirstSeen.Remove(stale);
        }

        var configured = await channels.ConfigsAsync(cancellationToken);
        var started = 0;
        foreach (var group in groups.Values)
        {
            var firing = group.Members.Where(m => m.Alert.State == AlertState.Firing && !m.Muted).Select(m => m.Alert).ToList();
            if (firing.Count > 0 && !_groupFirstSeen.ContainsKey(group.Key))
            {
                _groupFirstSeen[group.Key] = firing.Min(a => a.FiredAt ?? now);
            }

            foreach (var channel in ChannelsOf(group.Route, configured))
            {
                if (Decide(group, firing, channel, now) is { } notification)
                {
                    Start(group, channel, notification, firing, now);
                    started++;
                }
            }
        }

        return started;
    }

    private Notification? Decide(Group group, List<AlertSnapshot> firing, ChannelConfig channel, DateTimeOffset now)
    {
        var key = (group.Key, channel.Id);
        if (_inFlight.ContainsKey(key))
        {
            return null;
        }

        var state = _log!;
        var entry = state.GetValueOrDefault(key);
        var told = entry?.Firing ?? (IReadOnlySet<string>)new HashSet<string>();
        var current = firing.Select(a => a.Fingerprint).ToHashSet(StringComparer.Ordinal);
        var acknowledged = firing.Count > 0 && firing.All(a => a.Acknowledgement is not null);
        var resolved = group.Members.Where(m => m.Alert.State == AlertState.Resolved && told.Contains(m.Alert.Fingerprint)).Select(m => m.Alert).ToList();

        if (current.Count == 0)
        {
            if (told.Count == 0)
            {
                return null;
            }

            if (resolved.Count == 0 || !channel.SendResolved)
            {
                // Nothing to say (the alerts were silenced, or this channel does not want resolutions): forget them.
                var forgotten = (entry ?? Empty(group, channel)) with { Firing = new HashSet<string>(), Resolved = new HashSet<string>() };
                state[key] = forgotten;
                _ = RecordQuietlyAsync(forgotten);
                return null;
            }

            return Build(group, Notification.Resolved, [], resolved);
        }

        if (told.Count == 0)
        {
            var waited = now - _groupFirstSeen.GetValueOrDefault(group.Key, now);
            var sinceAttempt = now - (entry?.LastAttemptAt ?? NotificationLog.Never);
            return waited >= group.Route.GroupWait && sinceAttempt >= group.Route.GroupInterval
                ? Build(group, Notification.Firing, firing, resolved)
                : null;
        }

        // Acknowledgement is news only to a channel that tracks incidents (PagerDuty acknowledges its own); elsewhere
        // it would be a second message saying the same alert still fires.
        var changed = !current.SetEquals(told) || (channel.Type == ChannelTypes.PagerDuty && acknowledged != entry!.Acknowledged);
        var since = now - entry!.SentAt;
        var sinceTried = now - entry.LastAttemptAt;
        if (changed && since >= group.Route.GroupInterval && sinceTried >= group.Route.GroupInterval)
        {
            return Build(group, Notification.Firing, firing, resolved);
        }

        return !changed && since >= group.Route.RepeatInterval && sinceTried >= group.Route.GroupInterval
            ? Build(group, Notification.Firing, firing, resolved)
            : null;
    }

    private void Start(Group group, ChannelConfig channel, Notification notification, List<AlertSnapshot> firing, DateTimeOffset decidedAt)
    {
        var key = (group.Key, channel.Id);
        var acknowledged = firing.Count > 0 && firing.All(a => a.Acknowledgement is not null);
        var state = _log!;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _inFlight[key] = gate.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                var (result, attempts) = await delivery.DeliverAsync(channel, notification, CancellationToken.None);
                var at = time.GetUtcNow();
                var previous = state.GetValueOrDefault(key) ?? Empty(group, channel);
                var entry = result.Outcome == DeliveryOutcome.Delivered
                    ? new LogEntry(group.Key, channel.Id, group.Route.Name,
                        firing.Select(a => a.Fingerprint).ToHashSet(StringComparer.Ordinal),
                        notification.Alerts.Where(a => a.Status == Notification.Resolved).Select(a => a.Fingerprint).ToHashSet(StringComparer.Ordinal),
                        acknowledged, at, at, "delivered")
                    : previous with { LastAttemptAt = at, LastOutcome = result.Outcome == DeliveryOutcome.Failed ? "failed" : "gave-up" };
                state[key] = entry;
                await log.RecordAsync(entry, new DeliveryRecord(
                    group.Key, channel.Id, notification.Status, [.. notification.Alerts.Select(a => a.Fingerprint)], entry.LastOutcome, attempts,
                    result.StatusCode, result.Error, at), CancellationToken.None);
                if (result.Outcome == DeliveryOutcome.Delivered)
                {
                    LogDelivered(logger, notification.Status, notification.Alerts.Count, group.Key, channel.Name, attempts, (at - decidedAt).TotalMilliseconds);
                }
                else
                {
                    LogNotDelivered(logger, notification.Status, group.Key, channel.Name, attempts, result.Error ?? result.Outcome.ToString());
                }
            }
            catch (Exception ex)
            {
                LogDeliveryCrashed(logger, group.Key, channel.Name, ex.Message);
            }
            finally
            {
                _inFlight.TryRemove(key, out _);
                gate.SetResult();
            }
        });
    }

    private async Task RecordQuietlyAsync(LogEntry entry)
    {
        try
        {
            await log.RecordAsync(entry, new DeliveryRecord(entry.GroupKey, entry.ChannelId, Notification.Resolved, [], "not-sent", 0, null, null, time.GetUtcNow()), CancellationToken.None);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            LogDeliveryCrashed(logger, entry.GroupKey, entry.ChannelId.ToString(), ex.Message);
        }
    }

    private Notification Build(Group group, string status, List<AlertSnapshot> firing, List<AlertSnapshot> resolved) => new(
        group.Route.Name,
        group.Key,
        group.Labels,
        status,
        [.. firing.Select(a => ToNotified(a, Notification.Firing)), .. resolved.Select(a => ToNotified(a, Notification.Resolved))],
        options.Value.ExternalUrl);

    private static NotifiedAlert ToNotified(AlertSnapshot alert, string status) => new(
        alert.Fingerprint, status, alert.RuleName, alert.Labels, alert.Annotations, alert.FiredAt ?? alert.ActiveAt,
        status == Notification.Resolved ? alert.ResolvedAt ?? alert.LastBreachAt : null, alert.Value, alert.Acknowledgement);

    private static LogEntry Empty(Group group, ChannelConfig channel) => new(
        group.Key, channel.Id, group.Route.Name, new HashSet<string>(), new HashSet<string>(), false, NotificationLog.Never, NotificationLog.Never, "none");

    private static IEnumerable<ChannelConfig> ChannelsOf(ResolvedRoute route, IReadOnlyList<ChannelConfig> configured) =>
        route.Channels.Contains("*") ? configured : configured.Where(c => route.Channels.Contains(c.Name, StringComparer.Ordinal));

    private sealed record Group(string Key, ResolvedRoute Route, LabelSet Labels, List<(AlertSnapshot Alert, bool Muted)> Members);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notified {Status} ({Alerts} alert(s)) of group {GroupKey} to channel {Channel} in {Attempts} attempt(s), {Milliseconds:F0} ms after deciding")]
    private static partial void LogDelivered(ILogger logger, string status, int alerts, string groupKey, string channel, int attempts, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not notify {Status} of group {GroupKey} to channel {Channel} after {Attempts} attempt(s): {Error}")]
    private static partial void LogNotDelivered(ILogger logger, string status, string groupKey, string channel, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the notification of group {GroupKey} to channel {Channel} failed: {Error}")]
    private static partial void LogDeliveryCrashed(ILogger logger, string groupKey, string channel, string error);
}
