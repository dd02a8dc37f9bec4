using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>What the event tests check about a stream once it has been processed.</summary>
internal static class CallStateAssertions
{
    /// <summary>The state of every call after its events in order, by the pure state machine alone.</summary>
    public static Dictionary<string, CallSnapshot> FoldInOrder(IEnumerable<CallEventReceived> inOrder)
    {
        var calls = new Dictionary<string, CallSnapshot>(StringComparer.Ordinal);
        foreach (var e in inOrder)
        {
            calls.TryGetValue(e.ProviderCallId, out var current);
            calls[e.ProviderCallId] = CallStateMachine.Decide(current, e).Next;
        }

        return calls;
    }

    /// <summary>
    /// The part of a call's state that cannot depend on the order its events arrived in (every generated call
    /// ends, and a call's end is never stale); when it was answered, say, may not be known if the answer came
    /// after the hangup.
    /// </summary>
    public static object FinalState(CallSnapshot call) => new
    {
        call.Status,
        call.EndReason,
        call.Provider,
        call.Direction,
        call.SessionId,
        call.From,
        call.To,
        call.EndedAt,
        call.LastSequence,
        call.LastProviderTime,
    };

    /// <summary>
    /// Each event left exactly one transition row and one inbox row, no call was lost or doubled, the call's count
    /// of applied transitions matches its rows, and every applied transition (and only those) has its outbox row.
    /// </summary>
    public static async Task AssertExactlyOnceAsync(CallStateHost host, IReadOnlyCollection<CallEventReceived> distinctEvents)
    {
        var callIds = distinctEvents.Select(e => e.ProviderCallId).ToHashSet(StringComparer.Ordinal);
        var transitions = await host.TransitionsAsync(callIds);
        Assert.Equal(distinctEvents.Count, transitions.Count);
        Assert.Equal(distinctEvents.Select(e => e.EventId).Order(), transitions.Select(t => t.EventId).Order());

        var calls = await host.CallsAsync(callIds);
        Assert.Equal(callIds.Count, calls.Count);
        var applied = transitions.Where(t => t.Outcome == TransitionOutcome.Applied).ToList();
        foreach (var (callId, call) in calls)
        {
            var mine = applied.Where(t => t.CallId == callId).ToList();
            Assert.Equal(mine.Count, call.AppliedTransitions);
            AssertChained(mine, call);
        }

        Assert.All(transitions.Where(t => t.Outcome == TransitionOutcome.Ignored), t => Assert.False(string.IsNullOrEmpty(t.IgnoredBecause)));

        var outbox = await host.OutboxAsync(callIds);
        Assert.Equal(applied.Count, outbox.Count);
        var types = host.Services.GetRequiredService<OutboxEventTypes>();
        var causes = outbox.Select(o => (CallStateChanged)types.Read(o.ToRow()).Message).Select(m => m.CausedByEventId).Order();
        Assert.Equal(applied.Select(t => t.EventId).Order(), causes);

        await using var db = host.NewDbContext();
        var eventIds = distinctEvents.Select(e => e.EventId).ToList();
        var inbox = db.InboxMessages.Count(i => eventIds.Contains(i.EventId));
        Assert.Equal(distinctEvents.Count, inbox);
    }

    /// <summary>No lost update: in commit order, each applied transition starts where the previous one ended.</summary>
    public static void AssertChained(IReadOnlyList<CallTransitionRecord> appliedInCommitOrder, CallRecord call)
    {
        CallStatus? previous = null;
        foreach (var transition in appliedInCommitOrder)
        {
            Assert.Equal(previous, transition.FromStatus);
            previous = transition.ToStatus;
        }

        if (appliedInCommitOrder.Count > 0)
        {
            Assert.Equal(call.Status, previous);
        }
    }
}
