namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>Backoff between restarts of a crashing process: 1 s, 2 s, 4 s … at most 15 s; forgiven after 60 s healthy.</summary>
public sealed class RestartPolicy
{
    public static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaximumDelay = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan ResetAfterHealthy = TimeSpan.FromSeconds(60);

    private int _consecutiveFailures;

    /// <param name="healthyFor">How long the process had been healthy when it exited (zero if never).</param>
    public TimeSpan NextDelay(TimeSpan healthyFor)
    {
        if (healthyFor >= ResetAfterHealthy)
        {
            _consecutiveFailures = 0;
        }

        var delay = TimeSpan.FromTicks(Math.Min(InitialDelay.Ticks << Math.Min(_consecutiveFailures, 8), MaximumDelay.Ticks));
        _consecutiveFailures++;
        return delay;
    }
}
