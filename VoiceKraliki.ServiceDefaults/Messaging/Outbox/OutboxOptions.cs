using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>How the <see cref="OutboxRelay"/> publishes (section <c>Outbox</c>).</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>How often the table is read without a local signal (rows of other replicas, or left by a crash).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00", ErrorMessage = "Outbox:PollInterval must be between 10 ms and 5 minutes.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 10_000, ErrorMessage = "Outbox:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 100;

    /// <summary>How long one publish may wait for the broker's confirm.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Outbox:PublishTimeout must be between 100 ms and 5 minutes.")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between retries after failures; retries never stop.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Outbox:MaxBackoff must be between 100 ms and 10 minutes.")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);
}
