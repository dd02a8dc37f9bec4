using System.Collections.Concurrent;
using System.Diagnostics;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using Xunit.Abstractions;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>The processor of the real service on the real Postgres (and, for what it publishes, the real broker).</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallEventProcessorTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_call_initiated_ringing_answered_completed_ends_completed_with_four_transitions_all_published()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var events = CallEventStreams.Twilio(new Random(1), CallEventStreams.TwilioId(Tag(), 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Answered);
        Assert.Equal(["initiated", "ringing", "in-progress", "completed"], events.Select(e => e.ProviderStatus));
        var callId = events[0].ProviderCallId;

        var results = await host.ProcessAllAsync(events);
        var committed = Stopwatch.StartNew();

        Assert.All(results, r => Assert.Equal(CallEventOutcome.Applied, r.Outcome));
        var call = (await host.CallsAsync([callId]))[callId];
        Assert.Equal(CallStatus.Completed, call.Status);
        Assert.Equal(CallEndReason.Normal, call.EndReason);
        Assert.Equal(4, call.AppliedTransitions);
        Assert.Equal(events[2].OccurredAt, call.AnsweredAt);
        Assert.Equal(events[3].OccurredAt, call.EndedAt);
        Assert.Equal(3, call.LastSequence);

        var transitions = await host.TransitionsAsync([callId]);
        Assert.Equal(
            [(null, CallStatus.Initiated), (CallStatus.Initiated, CallStatus.Ringing), (CallStatus.Ringing, CallStatus.Answered), (CallStatus.Answered, CallStatus.Completed)],
            transitions.Select(t => (t.FromStatus, t.ToStatus)));
        Assert.All(transitions, t => Assert.Equal(TransitionOutcome.Applied, t.Outcome));
        Assert.Equal(events.Select(e => e.EventId), transitions.Select(t => t.EventId));
        Assert.Equal(4, (await host.OutboxAsync([callId])).Count);

        var published = await infrastructure.Published.WaitForAsync(new HashSet<string> { callId }, 4, TimeSpan.FromSeconds(30));
        output.WriteLine($"the last change was published {committed.Elapsed.TotalMilliseconds:F0} ms after its commit");
        var changes = published.OrderBy(c => c.Status).ToList();
        Assert.Equal(4, changes.Count);
        Assert.Equal([CallStatus.Initiated, CallStatus.Ringing, CallStatus.Answered, CallStatus.Completed], changes.Select(c => c.Status));
        Assert.Equal([null, CallStatus.Initiated, CallStatus.Ringing, CallStatus.Answered], changes.Select(c => c.PreviousStatus));
        Assert.Equal(events.Select(e => e.EventId), changes.Select(c => c.CausedByEventId));
        Assert.All(changes, c => Assert.Equal(callId, c.CorrelationId));
        Assert.All(changes, c => Assert.Equal([c.EventId], infrastructure.Published.MessageIdsOf(c.EventId)));
        Assert.Equal(CallEndReason.Normal, changes[3].EndReason);
        Assert.Equal(call.EndedAt - call.AnsweredAt, changes[3].Duration);
        Assert.Null(changes[2].Duration);

        // The relay marked them all.
        await Eventually(async () => (await host.OutboxAsync([callId])).All(o => o.PublishedAt is not null && o.Attempts == 0));
    }

    [Fact]
    public async Task A_redelivered_event_has_no_second_effect()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var events = CallEventStreams.Twilio(new Random(2), CallEventStreams.TwilioId(Tag(), 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Busy);
        await host.ProcessAllAsync(events);

        foreach (var e in events)
        {
            Assert.Equal(CallEventOutcome.Duplicate, (await host.Processor.ProcessAsync(e, None)).Outcome);
        }

        await CallStateAssertions.AssertExactlyOnceAsync(host, events);
    }

    [Fact]
    public async Task An_event_that_changes_nothing_is_recorded_with_why_and_publishes_nothing()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var events = CallEventStreams.Twilio(new Random(3), CallEventStreams.TwilioId(Tag(), 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Answered);
        var callId = events[0].ProviderCallId;

        // The hangup first; the rest arrive late.
        var results = await host.ProcessAllAsync([events[3], events[0], events[1], events[2]]);

        Assert.Equal([CallEventOutcome.Applied, CallEventOutcome.Ignored, CallEventOutcome.Ignored, CallEventOutcome.Ignored], results.Select(r => r.Outcome));
        var transitions = await host.TransitionsAsync([callId]);
        Assert.All(transitions.Skip(1), t => Assert.Equal("terminal state Completed", t.IgnoredBecause));
        Assert.Single(await host.OutboxAsync([callId]));
        await CallStateAssertions.AssertExactlyOnceAsync(host, events);
    }

    [Fact]
    public async Task A_status_less_first_event_creates_a_placeholder_that_the_first_real_state_replaces()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var events = CallEventStreams.Twilio(new Random(4), CallEventStreams.TwilioId(Tag(), 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.AnsweredWithAmdAndRecording);
        var recording = events.Single(e => e.EventType == "recording.completed");
        var callId = recording.ProviderCallId;

        Assert.Equal(CallEventOutcome.Ignored, (await host.Processor.ProcessAsync(recording, None)).Outcome);
        var placeholder = (await host.CallsAsync([callId]))[callId];
        Assert.Equal(0, placeholder.AppliedTransitions);
        Assert.Empty(await host.OutboxAsync([callId]));

        await host.ProcessAllAsync(events.Where(e => e != recording));
        var call = (await host.CallsAsync([callId]))[callId];
        Assert.Equal(CallStatus.Completed, call.Status);
        Assert.Contains("\"recording\"", call.Metadata, StringComparison.Ordinal);
        await CallStateAssertions.AssertExactlyOnceAsync(host, events);
    }

    [Fact]
    public async Task A_thousand_event_stream_delivered_twice_shuffled_ends_as_in_order_with_one_transition_per_event()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        const int Seed = 20250602;
        var inOrderCalls = CallEventStreams.Generate(Tag(), 1000, Seed);
        var shuffledCalls = CallEventStreams.Generate(Tag(), 1000, Seed);
        var inOrder = CallEventStreams.InArrivalOrder(inOrderCalls);
        var distinct = CallEventStreams.InArrivalOrder(shuffledCalls);
        Assert.Equal(1000, inOrder.Count);
        Assert.Contains(distinct, e => e.Provider == TelephonyProvider.Twilio && e.Sequence is not null);
        Assert.Contains(distinct, e => e.Provider == TelephonyProvider.Telnyx && e.Sequence is null);
        output.WriteLine($"{inOrderCalls.Count} calls, {inOrder.Count(e => e.Status is null)} events without a state");

        // In order, one at a time: exactly what the pure state machine says.
        var watch = Stopwatch.StartNew();
        await host.ProcessAllAsync(inOrder);
        output.WriteLine($"in order, sequential: {inOrder.Count / watch.Elapsed.TotalSeconds:F0} events/s");
        var expected = CallStateAssertions.FoldInOrder(inOrder);
        var stored = await host.CallsAsync(expected.Keys);
        Assert.Equal(expected.Count, stored.Count);
        Assert.All(expected, p => Assert.Equal(p.Value, stored[p.Key].ToSnapshot()));
        await CallStateAssertions.AssertExactlyOnceAsync(host, inOrder);

        // The same stream (other call ids) twice, shuffled, four consumers at once.
        var deliveries = CallEventStreams.Shuffled(distinct.Concat(distinct), Seed);
        var outcomes = new ConcurrentBag<CallEventOutcome>();
        watch.Restart();
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (e, ct) => outcomes.Add((await host.Processor.ProcessAsync(e, ct)).Outcome));
        output.WriteLine($"twice shuffled, 4 concurrent: {deliveries.Count / watch.Elapsed.TotalSeconds:F0} deliveries/s");

        Assert.Equal(1000, outcomes.Count(o => o == CallEventOutcome.Duplicate));
        await CallStateAssertions.AssertExactlyOnceAsync(host, distinct);
        var shuffledStored = await host.CallsAsync(shuffledCalls.Select(c => c.ProviderCallId).ToList());
        for (var i = 0; i < inOrderCalls.Count; i++)
        {
            var reference = stored[inOrderCalls[i].ProviderCallId].ToSnapshot();
            var actual = shuffledStored[shuffledCalls[i].ProviderCallId].ToSnapshot();
            Assert.Equal(CallStateAssertions.FinalState(reference), CallStateAssertions.FinalState(actual));
        }
    }

    [Fact]
    public async Task Events_of_one_call_processed_by_eight_tasks_at_once_leave_one_consistent_call()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var tag = Tag();
        for (var round = 0; round < 6; round++)
        {
            // A new call each round, so that its creation races too; every event is delivered twice.
            var random = new Random(round);
            var events = round % 2 == 0
                ? CallEventStreams.TelnyxIvr(random, CallEventStreams.TelnyxId(tag, round), CallEventStreams.Now(), 30)
                : CallEventStreams.Twilio(random, CallEventStreams.TwilioId(tag, round), CallEventStreams.Now(), CallEventStreams.TwilioScenario.AnsweredWithAmdAndRecording);
            var deliveries = CallEventStreams.Shuffled(events.Concat(events), round);
            using var start = new Barrier(8);
            var outcomes = new ConcurrentBag<CallEventOutcome>();
            var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                start.SignalAndWait();
                for (var i = w; i < deliveries.Count; i += 8)
                {
                    outcomes.Add((await host.Processor.ProcessAsync(deliveries[i], None)).Outcome);
                }
            }));
            await Task.WhenAll(workers);

            Assert.Equal(events.Count, outcomes.Count(o => o == CallEventOutcome.Duplicate));
            await CallStateAssertions.AssertExactlyOnceAsync(host, events);
            var call = (await host.CallsAsync([events[0].ProviderCallId]))[events[0].ProviderCallId];
            Assert.Equal(CallStatus.Completed, call.Status);
            Assert.Equal(CallStateAssertions.FinalState(CallStateAssertions.FoldInOrder(events)[call.ProviderCallId]), CallStateAssertions.FinalState(call.ToSnapshot()));
        }
    }

    [Fact]
    public async Task Throughput_of_one_instance_sequentially_and_with_four_concurrent_consumers()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var warmUp = CallEventStreams.InArrivalOrder(CallEventStreams.Generate(Tag(), 100, 1));
        await host.ProcessAllAsync(warmUp);

        var sequential = CallEventStreams.InArrivalOrder(CallEventStreams.Generate(Tag(), 1000, 2));
        var watch = Stopwatch.StartNew();
        await host.ProcessAllAsync(sequential);
        var sequentialRate = sequential.Count / watch.Elapsed.TotalSeconds;

        // Four consumers take arrival-ordered events as MassTransit would hand them out.
        var concurrent = CallEventStreams.InArrivalOrder(CallEventStreams.Generate(Tag(), 1000, 3));
        watch.Restart();
        await Parallel.ForEachAsync(concurrent, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (e, ct) => await host.Processor.ProcessAsync(e, ct));
        var concurrentRate = concurrent.Count / watch.Elapsed.TotalSeconds;

        output.WriteLine($"one processor, {Environment.ProcessorCount} cores: sequential {sequentialRate:F0} events/s, 4 concurrent {concurrentRate:F0} events/s");
        await CallStateAssertions.AssertExactlyOnceAsync(host, sequential);
        await CallStateAssertions.AssertExactlyOnceAsync(host, concurrent);
        Assert.True(sequentialRate > 20, $"sequential {sequentialRate:F0} events/s");
        Assert.True(concurrentRate > 20, $"concurrent {concurrentRate:F0} events/s");
    }

    internal static async Task Eventually(Func<Task<bool>> condition, int seconds = 30)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(seconds), $"not true within {seconds} s");
            await Task.Delay(100);
        }
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];
}
