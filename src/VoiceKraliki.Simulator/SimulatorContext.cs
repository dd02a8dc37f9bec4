using System.Text.Json;
using VoiceKraliki.Simulator.Calls;
using VoiceKraliki.Simulator.Faults;
using VoiceKraliki.Simulator.Scenarios;

namespace VoiceKraliki.Simulator;

/// <summary>What every endpoint of one simulator instance shares.</summary>
internal sealed class SimulatorContext(
    SimulatorOptions options, CallRegistry calls, ScenarioBook scenarios, FaultInjector faults, CallLifecycle lifecycle, TimeProvider time)
{
    /// <summary>The providers' JSON: snake_case names, nulls written out as they do.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,

        // The providers write '+' in phone numbers and dates as is, not as \u002B.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public SimulatorOptions Options { get; } = options;

    public CallRegistry Calls { get; } = calls;

    public ScenarioBook Scenarios { get; } = scenarios;

    public FaultInjector Faults { get; } = faults;

    public CallLifecycle Lifecycle { get; } = lifecycle;

    public TimeProvider Time { get; } = time;

    /// <summary>Cancelled when the simulator stops, so held requests let go.</summary>
    public CancellationToken Stopping { get; init; }
}
