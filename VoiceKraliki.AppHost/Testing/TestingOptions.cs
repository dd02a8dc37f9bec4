namespace VoiceKraliki.AppHost.Testing;

/// <summary>How a test wants the application.</summary>
public sealed class TestingOptions
{
    /// <summary>Start only Postgres, Redis and RabbitMQ.</summary>
    public bool InfrastructureOnly { get; set; }

    /// <summary>Default: a fresh temporary folder, deleted on dispose. A given folder is kept.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Wipe a given state folder first.</summary>
    public bool Fresh { get; set; }

    /// <summary>0 picks a free port.</summary>
    public int GatewayPort { get; set; }

    /// <summary>AppHost configuration, e.g. <c>Telephony:Twilio:AuthToken</c> or <c>ConnectionStrings:redis</c>.</summary>
    public IDictionary<string, string?> Configuration { get; set; } = new Dictionary<string, string?>();

    /// <summary>Replica counts by resource name, e.g. <c>["webhook-ingress"] = 3</c>.</summary>
    public IDictionary<string, int> Replicas { get; set; } = new Dictionary<string, int>();

    /// <summary>Receives (process label, line) for log lines that look like errors; e.g. a test output helper.</summary>
    public Action<string, string>? ErrorLineSink { get; set; }

    /// <summary>Default: the repository this AppHost was built from.</summary>
    public string? RepositoryRoot { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
