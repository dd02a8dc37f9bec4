namespace VoiceKraliki.Alerting.Model;

/// <summary>
/// One value of one signal series at one time: <c>call_drop_rate{provider="twilio"} = 0.12</c>. A series is a signal
/// name with a label set (often <c>provider</c>); rules compare each series of their signal.
/// </summary>
public sealed record SignalSample(string Signal, LabelSet Labels, DateTimeOffset At, double Value);

/// <summary>The current value of every series of the signals, for rule evaluation.</summary>
public interface ISignalReader
{
    /// <summary>
    /// Every series of <paramref name="signal"/> that has a value at <paramref name="now"/> (a series without enough
    /// data in its window has none, and a rule over it holds no condition).
    /// </summary>
    IReadOnlyList<SignalSample> Current(string signal, DateTimeOffset now);
}
