using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;
using static VoiceKraliki.CallState.Tests.Calls.CallEvents;

namespace VoiceKraliki.CallState.Tests.Calls;

public class CallStateMachineTableTests
{
    // Written out by hand, so changing the table in the code fails a test here. Rows are "from", columns "to",
    // in CallStatus order: Initiated, Ringing, Answered, OnHold, Transferring, Completed, Failed. Y = legal.
    private static readonly string[] ExpectedGrid =
    [
        /* Initiated    */ ". Y Y Y Y Y Y",
        /* Ringing      */ ". . Y Y Y Y Y",
        /* Answered     */ ". . . Y Y Y .",
        /* OnHold       */ ". . Y . Y Y .",
        /* Transferring */ ". . Y Y . Y .",
        /* Completed    */ ". . . . . . .",
        /* Failed       */ ". . . . . . .",
    ];

    private static readonly CallStatus[] States = Enum.GetValues<CallStatus>();

    public static TheoryData<CallStatus, CallStatus, bool> EveryPair
    {
        get
        {
            var data = new TheoryData<CallStatus, CallStatus, bool>();
            for (var from = 0; from < States.Length; from++)
            {
                var cells = ExpectedGrid[from].Split(' ');
                for (var to = 0; to < States.Length; to++)
                {
                    data.Add(States[from], States[to], cells[to] == "Y");
                }
            }

            return data;
        }
    }

    public static TheoryData<CallStatus, CallStatus> LegalTransitions => Pairs(CallStateMachine.Transitions);

    public static TheoryData<CallStatus, CallStatus> IllegalChanges =>
        Pairs(from f in States from t in States where f != t && !CallStateMachine.IsLegal(f, t) select (f, t));

    public static TheoryData<CallStatus> AllStates => new(States);

    [Fact]
    public void The_hand_written_table_covers_all_49_pairs()
    {
        Assert.Equal(7, States.Length);
        Assert.Equal(49, EveryPair.Count());
        Assert.Equal(20, ExpectedGrid.Sum(row => row.Split(' ').Count(c => c == "Y")));
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Legality_of_every_pair_is_as_the_hand_written_table_says(CallStatus from, CallStatus to, bool legal)
    {
        Assert.Equal(legal, CallStateMachine.IsLegal(from, to));
        Assert.Equal(legal, CallStateMachine.Transitions.Contains((from, to)));
    }

    [Fact]
    public void The_transition_list_has_no_duplicates()
    {
        Assert.Equal(CallStateMachine.Transitions.Count, CallStateMachine.Transitions.Distinct().Count());
        Assert.Equal(20, CallStateMachine.Transitions.Count);
    }

    [Theory]
    [MemberData(nameof(LegalTransitions))]
    public void Every_legal_transition_is_applied_by_Decide(CallStatus from, CallStatus to)
    {
        var decision = CallStateMachine.Decide(Snapshot(from, second: 5), To(to, second: 10));

        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
        Assert.Null(decision.IgnoredBecause);
        Assert.Equal(from, decision.From);
        Assert.Equal(to, decision.To);
        Assert.Equal(to, decision.Next.Status);
        Assert.Equal(3, decision.Next.AppliedTransitions);
    }

    [Theory]
    [MemberData(nameof(LegalTransitions))]
    public void No_legal_transition_leaves_a_terminal_state_or_stays_in_place(CallStatus from, CallStatus to)
    {
        Assert.False(CallStateMachine.IsTerminal(from));
        Assert.NotEqual(from, to);
    }

    [Theory]
    [MemberData(nameof(IllegalChanges))]
    public void Every_illegal_change_is_ignored_by_Decide_with_the_reason(CallStatus from, CallStatus to)
    {
        var decision = CallStateMachine.Decide(Snapshot(from, second: 5), To(to, second: 10));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal(from, decision.From);
        Assert.Equal(from, decision.To);
        Assert.Equal(
            CallStateMachine.IsTerminal(from) ? $"terminal state {from}" : $"no transition {from} -> {to}",
            decision.IgnoredBecause);
    }

    [Theory]
    [MemberData(nameof(AllStates))]
    public void A_state_is_never_a_transition_to_itself_and_a_repeat_is_no_change(CallStatus state)
    {
        Assert.False(CallStateMachine.IsLegal(state, state));

        var decision = CallStateMachine.Decide(Snapshot(state, second: 5), To(state, second: 10));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal(
            CallStateMachine.IsTerminal(state) ? $"terminal state {state}" : $"no change: already {state}",
            decision.IgnoredBecause);
    }

    [Theory]
    [InlineData(CallStatus.Initiated, false)]
    [InlineData(CallStatus.Ringing, false)]
    [InlineData(CallStatus.Answered, false)]
    [InlineData(CallStatus.OnHold, false)]
    [InlineData(CallStatus.Transferring, false)]
    [InlineData(CallStatus.Completed, true)]
    [InlineData(CallStatus.Failed, true)]
    public void Only_completed_and_failed_are_terminal(CallStatus status, bool terminal)
    {
        Assert.Equal(terminal, CallStateMachine.IsTerminal(status));
    }

    [Theory]
    [InlineData(CallStatus.Initiated)]
    [InlineData(CallStatus.Ringing)]
    [InlineData(CallStatus.Answered)]
    [InlineData(CallStatus.OnHold)]
    [InlineData(CallStatus.Transferring)]
    public void Every_live_state_can_end_completed_in_one_step(CallStatus status)
    {
        // A hangup must end a call from wherever it is, or a lost webhook would leave it live for ever.
        Assert.True(CallStateMachine.IsLegal(status, CallStatus.Completed));
    }

    [Theory]
    [InlineData(CallStatus.Answered)]
    [InlineData(CallStatus.OnHold)]
    [InlineData(CallStatus.Transferring)]
    public void A_call_that_was_connected_cannot_fail(CallStatus status)
    {
        // Failed means the network could not set the call up (docs/call-status-mapping.md).
        Assert.False(CallStateMachine.IsLegal(status, CallStatus.Failed));
    }

    [Fact]
    public void A_state_outside_the_seven_is_never_legal_nor_terminal()
    {
        const CallStatus unknown = (CallStatus)42;
        Assert.False(CallStateMachine.IsLegal(CallStatus.Initiated, unknown));
        Assert.False(CallStateMachine.IsLegal(unknown, CallStatus.Completed));
        Assert.False(CallStateMachine.IsLegal((CallStatus)(-1), CallStatus.Completed));
        Assert.False(CallStateMachine.IsTerminal(unknown));
    }

    [Fact]
    public void The_document_lists_every_legal_transition_and_the_full_matrix()
    {
        var lines = File.ReadAllLines(RepositoryFile("docs/call-state-machine.md"));

        // "| Initiated | Ringing | ..." rows of the transition list.
        var listed = lines
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .Where(c => c.Length > 3 && Enum.TryParse<CallStatus>(c[1], out _) && Enum.TryParse<CallStatus>(c[2], out _))
            .Select(c => (Enum.Parse<CallStatus>(c[1]), Enum.Parse<CallStatus>(c[2])))
            .ToList();
        Assert.Equal(CallStateMachine.Transitions.OrderBy(t => t).ToList(), listed.OrderBy(t => t).ToList());

        // "| **Initiated** | — | ✓ | ..." rows of the matrix, columns in CallStatus order.
        foreach (var from in States)
        {
            var row = Assert.Single(lines, l => l.StartsWith($"| **{from}** |", StringComparison.Ordinal));
            var cells = row.Split('|', StringSplitOptions.TrimEntries)[2..^1];
            Assert.Equal(States.Length, cells.Length);
            for (var to = 0; to < States.Length; to++)
            {
                Assert.True(CallStateMachine.IsLegal(from, States[to]) == (cells[to] == "✓"), $"{from} -> {States[to]} is '{cells[to]}'");
            }
        }
    }

    internal static TheoryData<CallStatus, CallStatus> Pairs(IEnumerable<(CallStatus, CallStatus)> pairs)
    {
        var data = new TheoryData<CallStatus, CallStatus>();
        foreach (var (a, b) in pairs)
        {
            data.Add(a, b);
        }

        return data;
    }

    private static string RepositoryFile(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relativePath} was not found above {AppContext.BaseDirectory}.");
    }
}
