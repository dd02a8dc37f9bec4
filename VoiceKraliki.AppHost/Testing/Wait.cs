namespace VoiceKraliki.AppHost.Testing;

/// <summary>Polling for what a service does in the background (bus consumers, an outbox, a sweeper), for tests.</summary>
public static class Wait
{
    /// <summary>
    /// Polls <paramref name="condition"/> every 100 ms until it holds; throws <see cref="TimeoutException"/> naming
    /// <paramref name="what"/> after <paramref name="seconds"/>.
    /// </summary>
    public static async Task Until(Func<Task<bool>> condition, string what = "the condition", int seconds = 30)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = TimeProvider.System.GetTimestamp() + (long)(seconds * (double)TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{what} did not hold within {seconds} s");
            }

            await Task.Delay(100);
        }
    }
}
