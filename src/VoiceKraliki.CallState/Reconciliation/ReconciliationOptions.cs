using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.CallState.Reconciliation;

/// <summary>When a live call counts as stuck (section <c>Reconciliation</c>).</summary>
public sealed class ReconciliationOptions
{
    public const string SectionName = "Reconciliation";

    /// <summary>How long a call may stay Initiated or Ringing without an update.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Reconciliation:RingingTimeout must be between 1 second and 1 day.")]
    public TimeSpan RingingTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a call may stay Answered, OnHold or Transferring without an update.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Reconciliation:AnsweredTimeout must be between 1 second and 7 days.")]
    public TimeSpan AnsweredTimeout { get; set; } = TimeSpan.FromHours(4);

    /// <summary>How often the calls are checked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Reconciliation:Interval must be between 100 ms and 1 hour.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest one <see cref="IProviderCallReconciler"/> call may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Reconciliation:ProviderTimeout must be between 100 ms and 5 minutes.")]
    public TimeSpan ProviderTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
