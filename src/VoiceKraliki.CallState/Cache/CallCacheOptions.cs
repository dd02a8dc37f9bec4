using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.CallState.Cache;

/// <summary>How the Redis fast tier behaves (section <c>CallCache</c>).</summary>
public sealed class CallCacheOptions
{
    public const string SectionName = "CallCache";

    /// <summary>The longest one write after a commit may take; the event is committed either way.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10", ErrorMessage = "CallCache:WriteTimeout must be between 10 ms and 10 seconds.")]
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest a read may take before the API answers from Postgres instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10", ErrorMessage = "CallCache:ReadTimeout must be between 10 ms and 10 seconds.")]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After a failed operation Redis is not tried at all for this long, so events do not each wait on it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "CallCache:SkipAfterFailure must be between 100 ms and 1 minute.")]
    public TimeSpan SkipAfterFailure { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often Redis is PINGed (and the fast tier rebuilt when it came back or lost writes).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "CallCache:ProbeInterval must be between 100 ms and 1 minute.")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the snapshot of a call that ended stays readable from Redis.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "CallCache:TerminalSnapshotTtl must be between 1 second and 1 day.")]
    public TimeSpan TerminalSnapshotTtl { get; set; } = TimeSpan.FromMinutes(5);
}
