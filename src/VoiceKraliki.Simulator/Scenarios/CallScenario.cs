using System.Collections.Concurrent;
using System.Globalization;

namespace VoiceKraliki.Simulator.Scenarios;

public enum CallOutcome
{
    /// <summary>Rings, a person answers, the far end hangs up after the talk time.</summary>
    Answer,

    /// <summary>Rings, an answering machine picks up (AMD reports it), hangs up after the talk time.</summary>
    Machine,

    /// <summary>Busy after the ring time.</summary>
    Busy,

    /// <summary>Rings for the ring time, nobody answers.</summary>
    NoAnswer,

    /// <summary>The network fails the call after the ring time.</summary>
    Failed,
}

/// <summary>
/// What the far end of a call does. Text form: <c>&lt;outcome&gt; [ring=&lt;seconds&gt;] [talk=&lt;seconds&gt;]</c>,
/// outcome one of <c>answer</c> (or <c>human</c>), <c>machine</c>, <c>busy</c>, <c>no-answer</c>, <c>failed</c>;
/// e.g. <c>answer ring=1 talk=3</c>. Ring defaults to 1 s, talk to 3 s.
/// </summary>
public sealed record CallScenario(CallOutcome Outcome, TimeSpan RingFor, TimeSpan TalkFor)
{
    public static readonly CallScenario Default = new(CallOutcome.Answer, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));

    public static bool TryParse(string? text, out CallScenario scenario, out string error)
    {
        scenario = Default;
        error = string.Empty;
        var parts = (text ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            error = "A scenario needs an outcome: answer, machine, busy, no-answer or failed.";
            return false;
        }

        CallOutcome? outcome = parts[0].ToLowerInvariant() switch
        {
            "answer" or "human" => CallOutcome.Answer,
            "machine" => CallOutcome.Machine,
            "busy" => CallOutcome.Busy,
            "no-answer" => CallOutcome.NoAnswer,
            "failed" => CallOutcome.Failed,
            _ => null,
        };
        if (outcome is null)
        {
            error = $"Unknown outcome '{parts[0]}': use answer, machine, busy, no-answer or failed.";
            return false;
        }

        var ring = Default.RingFor;
        var talk = Default.TalkFor;
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var valueText = eq < 0 ? string.Empty : part[(eq + 1)..].TrimEnd('s');
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                || seconds < 0 || seconds > TimeSpan.FromDays(1).TotalSeconds)
            {
                error = $"'{part}' is not <name>=<seconds>.";
                return false;
            }

            switch (name.ToLowerInvariant())
            {
                case "ring":
                    ring = TimeSpan.FromSeconds(seconds);
                    break;
                case "talk":
                    talk = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    error = $"Unknown setting '{name}': use ring= or talk=.";
                    return false;
            }
        }

        scenario = new CallScenario(outcome.Value, ring, talk);
        return true;
    }

    /// <exception cref="FormatException">The text is not a scenario.</exception>
    public static CallScenario Parse(string text) =>
        TryParse(text, out var scenario, out var error) ? scenario : throw new FormatException(error);
}

/// <summary>Which scenario a destination number gets; changeable while the simulator runs. Thread-safe.</summary>
public sealed class ScenarioBook
{
    private readonly ConcurrentDictionary<string, CallScenario> _byNumber = new(StringComparer.Ordinal);
    private volatile CallScenario _default;

    public ScenarioBook(CallScenario defaultScenario)
    {
        _default = defaultScenario;
    }

    public CallScenario DefaultScenario
    {
        get => _default;
        set => _default = value ?? throw new ArgumentNullException(nameof(value));
    }

    public void Set(string number, CallScenario scenario)
    {
        ArgumentException.ThrowIfNullOrEmpty(number);
        ArgumentNullException.ThrowIfNull(scenario);
        _byNumber[number] = scenario;
    }

    public bool Remove(string number) => _byNumber.TryRemove(number, out _);

    public CallScenario For(string number) => _byNumber.TryGetValue(number, out var scenario) ? scenario : _default;
}
