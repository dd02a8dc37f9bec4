namespace VoiceKraliki.Simulator;

/// <summary>Everything the simulator is told; bound from the <c>Simulator</c> configuration section.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    public TwilioSimulatorOptions Twilio { get; set; } = new();

    public TelnyxSimulatorOptions Telnyx { get; set; } = new();

    /// <summary>The scenario for a destination with no rule of its own (see <see cref="Scenarios.CallScenario.Parse"/>).</summary>
    public string DefaultScenario { get; set; } = "answer ring=1 talk=3";

    /// <summary>Destination number (as dialled, e.g. <c>+15550001111</c>) → scenario text.</summary>
    public Dictionary<string, string> Scenarios { get; set; } = [];

    /// <summary>Per-attempt timeout of a webhook delivery; Twilio's default total timeout (<c>tt</c>) is 15 s.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A fault of kind timeout holds the request this long (or until the client gives up).</summary>
    public TimeSpan FaultHangTime { get; set; } = TimeSpan.FromSeconds(100);
}

public sealed class TwilioSimulatorOptions
{
    public string AccountSid { get; set; } = "AC00000000000000000000000000000000";

    public string AuthToken { get; set; } = "simulator-auth-token";

    /// <summary>Retries of a failed status callback when its URL has no <c>#rc=</c>; Twilio's default is 1.</summary>
    public int DefaultRetryCount { get; set; } = 1;

    /// <summary>Wait before the first retry; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class TelnyxSimulatorOptions
{
    public string ApiKey { get; set; } = "KEYsimulator";

    /// <summary>Base64 of the 32-byte Ed25519 private key webhooks are signed with; a fresh key when empty.</summary>
    public string? SigningKeySeed { get; set; }

    /// <summary>Where Call Control events go when the dial request names no <c>webhook_url</c>.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Attempts per event, the first included.</summary>
    public int DeliveryAttempts { get; set; } = 3;

    /// <summary>Wait before the first retry; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
