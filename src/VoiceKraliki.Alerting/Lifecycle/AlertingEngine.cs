using System.Diagnostics;
using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Alerting.Lifecycle;

/// <summary>
/// The evaluation loop. Every <see cref="AlertingOptions.EvaluationInterval"/> each replica samples its signals (so its
/// history and ring buffers stay whole, and a replica that takes over is warm); the replica holding the alerting lease
/// then evaluates every rule against the samples, applies the transitions to the alerts in Postgres (with their
/// <c>AlertFired</c>/<c>AlertResolved</c> events) and runs the dispatcher. One replica leads at a time, so an alert
/// fires once and is notified once however many replicas run.
/// </summary>
public sealed partial class AlertingEngine(
    Npgsql.NpgsqlDataSource dataSource,
    SignalStore signals,
    RuleStore rules,
    AlertStore alerts,
    NotificationDispatcher dispatcher,
    MigrationRunner migrations,
    IOptions<AlertingOptions> options,
    IOptions<NotificationOptions> notificationOptions,
    IOptions<SignalOptions> signalOptions,
    TimeProvider time,
    ILogger<AlertingEngine> logger) : BackgroundService
{
    private const long LeaseKey = 0x564B_414C_4552_5453; // "VKALERTS"

    private readonly LeaderLease _lease = new(dataSource, LeaseKey, "alert evaluation", logger);
    private bool _leading;
    private DateTimeOffset? _startedAt;

    /// <summary>Whether this replica evaluates and notifies now.</summary>
    public bool IsLeader => _lease.IsLeader;

    /// <summary>When the last evaluation round finished, and how long it took.</summary>
    public (DateTimeOffset At, TimeSpan Took)? LastRound { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var started = time.GetTimestamp();
                try
                {
                    await RoundAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // A failed round (Postgres away, a bad rule file read) must not stop alerting: the next round retries.
                    LogRoundFailed(logger, ex.Message);
                }

                var took = time.GetElapsedTime(started);
                var wait = options.Value.EvaluationInterval - took;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the lease goes with the connection.
        }
        finally
        {
            await dispatcher.Idle.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            await _lease.ReleaseAsync();
        }
    }

    /// <summary>One round: sample, and when leading, evaluate, apply and dispatch.</summary>
    internal async Task RoundAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _startedAt ??= now;
        var samples = signals.Sample(now);
        if (!await _lease.HoldAsync(cancellationToken))
        {
            if (_leading)
            {
                _leading = false;
                dispatcher.Reset();
            }

            return;
        }

        if (!_leading)
        {
            _leading = true;
            dispatcher.Reset();
        }

        var watch = Stopwatch.StartNew();
        var inForce = await rules.CurrentAsync(cancellationToken);
        var active = await alerts.ActiveAsync(cancellationToken);
        var bySignal = samples.GroupBy(s => s.Signal, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<SignalSample>)[.. g], StringComparer.Ordinal);
        var transitions = new List<AlertTransition>();
        var ruleNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in inForce)
        {
            var rule = stored.Rule;
            ruleNames.Add(rule.Name!);
            var mine = active.Values.Where(a => a.RuleName == rule.Name).ToDictionary(a => a.Fingerprint, StringComparer.Ordinal);
            var series = bySignal.GetValueOrDefault(rule.Signal!, []);
            foreach (var transition in RuleEvaluator.Evaluate(rule, series, mine, now, () => Guid.CreateVersion7().ToString("D")))
            {
                // After a start a signal's window is still filling (and the compliance counts are not yet restored): a
                // series with no value then says nothing, so a firing alert is not resolved for lack of data before the
                // window has had time to fill. Without this a restart would resolve, then fire again, every alert.
                if (transition.Kind == TransitionKind.Resolved
                    && !series.Any(s => LabelsMatch(s, transition.Alert))
                    && (!signals.IsRestored || now - _startedAt < signalOptions.Value.WindowOf(rule.Signal!)))
                {
                    continue;
                }

                transitions.Add(transition);
            }
        }

        // Alerts of a rule taken out of force resolve.
        foreach (var orphan in active.Values.Where(a => !ruleNames.Contains(a.RuleName)))
        {
            transitions.Add(orphan.State == AlertState.Pending
                ? new AlertTransition(TransitionKind.Dropped, orphan with { State = AlertState.Resolved, ResolvedAt = now })
                : new AlertTransition(TransitionKind.Resolved, orphan with { State = AlertState.Resolved, ResolvedAt = now, ResolvedBy = "rule-removed" }));
        }

        var applied = await alerts.ApplyAsync(transitions, cancellationToken);
        foreach (var transition in applied.Where(t => t.Kind is TransitionKind.Fired or TransitionKind.Resolved))
        {
            LogTransition(logger, transition.Alert.RuleName, transition.Kind.ToString().ToLowerInvariant(), transition.Alert.Labels.ToString(), transition.Alert.Value);
        }

        var notifiable = await alerts.NotifiableAsync(now - notificationOptions.Value.ResolvedRetention, cancellationToken);
        await dispatcher.DispatchAsync(notifiable, cancellationToken);
        LastRound = (time.GetUtcNow(), watch.Elapsed);
    }

    private static bool LabelsMatch(SignalSample sample, AlertSnapshot alert) =>
        sample.Labels.All(l => alert.Labels.TryGetValue(l.Key, out var value) && value == l.Value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation round failed ({Error}); the next round retries")]
    private static partial void LogRoundFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Rule} {Transition} for {Labels} at value {Value}")]
    private static partial void LogTransition(ILogger logger, string rule, string transition, string labels, double value);
}
