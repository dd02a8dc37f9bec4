namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>
/// Wakes this replica's <see cref="OutboxRelay"/> when a transaction has committed outbox rows, so an event
/// is published within milliseconds instead of at the next poll. Signals coalesce: many commits, one wake-up.
/// Services notify through <see cref="OutboxWriter.Notify"/>.
/// </summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _signal = NewSignal();

    public void Notify() => Volatile.Read(ref _signal).TrySetResult();

    /// <summary>Returns when notified or after <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _signal);
        try
        {
            await current.Task.WaitAsync(timeout, timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            return;
        }

        // Re-armed before the relay reads the table: a commit notified after this point wakes the next wait,
        // and one notified before it is already visible to the read that follows.
        Interlocked.CompareExchange(ref _signal, NewSignal(), current);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
