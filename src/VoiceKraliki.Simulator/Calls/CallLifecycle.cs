using System.Collections.Concurrent;
using VoiceKraliki.Simulator.Scenarios;

namespace VoiceKraliki.Simulator.Calls;

/// <summary>The moments of a call the providers tell us about.</summary>
public enum CallStage
{
    Initiated,
    Ringing,
    Answered,

    /// <summary>The call ended, whatever the reason; its status says which.</summary>
    Ended,
}

/// <summary>Sends a provider's webhooks for one stage of a call; returns when delivery is done or given up.</summary>
internal interface ICallNotifier
{
    Task NotifyAsync(SimulatedCall call, CallStage stage, CancellationToken cancellationToken);
}

/// <summary>
/// Plays each placed call's scenario on the simulator's clock and reports each stage through the
/// provider's notifier, one after another, so a call's webhooks leave in order. Our side may end the
/// call at any moment through the API (<see cref="HangUp"/>); the lifecycle then reports the end.
/// </summary>
internal sealed class CallLifecycle(TimeProvider time, ICallNotifier twilio, ICallNotifier telnyx) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    public void Start(SimulatedCall call)
    {
        var task = Task.Run(() => RunAsync(call));
        _running[call.Id] = task;
        _ = task.ContinueWith(_ => _running.TryRemove(call.Id, out Task? _), TaskScheduler.Default);
    }

    /// <summary>Ends a live call from our side (API hangup): canceled while ringing, completed once answered.</summary>
    /// <returns>False when the call had already ended.</returns>
    public bool HangUp(SimulatedCall call)
    {
        lock (call.Gate)
        {
            if (CallStatuses.IsTerminal(call.Status))
            {
                return false;
            }

            var answered = call.Status == CallStatuses.InProgress;
            End(call, answered ? CallStatuses.Completed : CallStatuses.Canceled, answered ? "normal_clearing" : "originator_cancel", "caller");
        }

        call.RequestHangup();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Shutting down: an unfinished call's webhooks are abandoned, as when a provider's region fails.
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(SimulatedCall call)
    {
        var notifier = call.Provider == SimulatedProvider.Twilio ? twilio : telnyx;
        var stopping = _stopping.Token;
        try
        {
            if (Move(call, CallStatuses.Initiated))
            {
                await notifier.NotifyAsync(call, CallStage.Initiated, stopping);
            }

            if (Move(call, CallStatuses.Ringing))
            {
                await notifier.NotifyAsync(call, CallStage.Ringing, stopping);
                await WaitAsync(call, call.Scenario.RingFor, stopping);
                if (await AnswerAsync(call, notifier, stopping))
                {
                    await WaitAsync(call, call.Scenario.TalkFor, stopping);
                    Finish(call, CallStatuses.Completed, "normal_clearing", "callee");
                }
            }

            await notifier.NotifyAsync(call, CallStage.Ended, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The simulator is stopping.
        }
    }

    private async Task<bool> AnswerAsync(SimulatedCall call, ICallNotifier notifier, CancellationToken stopping)
    {
        switch (call.Scenario.Outcome)
        {
            case CallOutcome.Busy:
                Finish(call, CallStatuses.Busy, "user_busy", "callee");
                return false;
            case CallOutcome.NoAnswer:
                Finish(call, CallStatuses.NoAnswer, "timeout", "callee");
                return false;
            case CallOutcome.Failed:
                Finish(call, CallStatuses.Failed, "unspecified", "callee");
                return false;
        }

        lock (call.Gate)
        {
            if (CallStatuses.IsTerminal(call.Status))
            {
                return false;
            }

            var now = time.GetUtcNow();
            call.Status = CallStatuses.InProgress;
            call.StartedAt = now;
            call.UpdatedAt = now;
            var detecting = call.MachineDetection is not null
                || call.AnsweringMachineDetection is not (null or "disabled");
            call.AnsweredBy = detecting ? (call.Scenario.Outcome == CallOutcome.Machine ? "machine_end_beep" : "human") : null;
        }

        await notifier.NotifyAsync(call, CallStage.Answered, stopping);
        return true;
    }

    private async Task WaitAsync(SimulatedCall call, TimeSpan duration, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, call.HangupRequested);
        try
        {
            await Task.Delay(duration, time, linked.Token);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            // Hung up through the API: HangUp already recorded how the call ended.
        }
    }

    private bool Move(SimulatedCall call, string status)
    {
        lock (call.Gate)
        {
            if (CallStatuses.IsTerminal(call.Status))
            {
                return false;
            }

            call.Status = status;
            call.UpdatedAt = time.GetUtcNow();
            return true;
        }
    }

    private void Finish(SimulatedCall call, string status, string cause, string source)
    {
        lock (call.Gate)
        {
            if (!CallStatuses.IsTerminal(call.Status))
            {
                End(call, status, cause, source);
            }
        }
    }

    /// <summary>Caller holds <see cref="SimulatedCall.Gate"/>.</summary>
    private void End(SimulatedCall call, string status, string cause, string source)
    {
        var now = time.GetUtcNow();
        call.Status = status;
        call.EndedAt = now;
        call.UpdatedAt = now;
        call.HangupCause = cause;
        call.HangupSource = source;
    }
}
