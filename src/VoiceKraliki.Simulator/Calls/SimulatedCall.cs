using System.Collections.Concurrent;
using System.Security.Cryptography;
using VoiceKraliki.Simulator.Scenarios;

namespace VoiceKraliki.Simulator.Calls;

public enum SimulatedProvider
{
    Twilio,
    Telnyx,
}

/// <summary>Twilio's call statuses; the Telnyx side maps them to its own words.</summary>
public static class CallStatuses
{
    public const string Queued = "queued";
    public const string Initiated = "initiated";
    public const string Ringing = "ringing";
    public const string InProgress = "in-progress";
    public const string Completed = "completed";
    public const string Busy = "busy";
    public const string NoAnswer = "no-answer";
    public const string Failed = "failed";
    public const string Canceled = "canceled";

    public static bool IsTerminal(string status) =>
        status is Completed or Busy or NoAnswer or Failed or Canceled;
}

/// <summary>One call the simulator placed. Mutable state is guarded by <see cref="Gate"/>.</summary>
public sealed class SimulatedCall
{
    private readonly CancellationTokenSource _hangup = new();

    public SimulatedCall(SimulatedProvider provider, string id, string to, string from, CallScenario scenario, DateTimeOffset createdAt)
    {
        Provider = provider;
        Id = id;
        To = to;
        From = from;
        Scenario = scenario;
        CreatedAt = createdAt;
        UpdatedAt = createdAt;
    }

    public object Gate { get; } = new();

    public SimulatedProvider Provider { get; }

    /// <summary>Twilio's CallSid or Telnyx's call_control_id.</summary>
    public string Id { get; }

    public string To { get; }

    public string From { get; }

    public CallScenario Scenario { get; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string Status { get; set; } = CallStatuses.Queued;

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public string? AnsweredBy { get; set; }

    // Twilio
    public string AccountSid { get; init; } = string.Empty;

    public string? Url { get; set; }

    public string? Twiml { get; set; }

    public string? StatusCallback { get; init; }

    public IReadOnlySet<string> StatusCallbackEvents { get; init; } = new HashSet<string>();

    public string? MachineDetection { get; init; }

    /// <summary>Twilio numbers each status callback of a call from 0.</summary>
    public int NextSequenceNumber { get; set; }

    public ConcurrentDictionary<string, SimulatedRecording> Recordings { get; } = new(StringComparer.Ordinal);

    // Telnyx
    public string CallLegId { get; init; } = string.Empty;

    public string CallSessionId { get; init; } = string.Empty;

    public string? ConnectionId { get; init; }

    public string? ClientState { get; set; }

    public string? WebhookUrl { get; init; }

    public string? AnsweringMachineDetection { get; init; }

    /// <summary>Why the call ended when our side ended it (Telnyx hangup_cause / hangup_source).</summary>
    public string? HangupCause { get; set; }

    public string? HangupSource { get; set; }

    public bool IsAlive
    {
        get
        {
            lock (Gate)
            {
                return !CallStatuses.IsTerminal(Status);
            }
        }
    }

    /// <summary>Cancelled when our side hangs the call up through the API.</summary>
    public CancellationToken HangupRequested => _hangup.Token;

    public void RequestHangup() => _hangup.Cancel();

    public int DurationSeconds()
    {
        lock (Gate)
        {
            return StartedAt is { } start && EndedAt is { } end ? (int)Math.Round((end - start).TotalSeconds) : 0;
        }
    }
}

public sealed class SimulatedRecording(string sid, string callSid, DateTimeOffset createdAt)
{
    public string Sid { get; } = sid;

    public string CallSid { get; } = callSid;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public string Status { get; set; } = "in-progress";
}

public sealed class CallRegistry
{
    private readonly ConcurrentDictionary<string, SimulatedCall> _calls = new(StringComparer.Ordinal);

    public void Add(SimulatedCall call) => _calls[call.Id] = call;

    public SimulatedCall? Find(string id) => _calls.TryGetValue(id, out var call) ? call : null;

    public IReadOnlyCollection<SimulatedCall> All => _calls.Values.ToArray();
}

/// <summary>Identifiers in the providers' shapes.</summary>
public static class ProviderIds
{
    /// <summary><paramref name="prefix"/> + 32 lowercase hex digits (Twilio's SIDs: CA…, RE…).</summary>
    public static string TwilioSid(string prefix) =>
        prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Telnyx's call_control_id: <c>v3:</c> followed by URL-safe base64.</summary>
    public static string TelnyxCallControlId() =>
        "v3:" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(33)).Replace('+', '-').Replace('/', '_');
}
