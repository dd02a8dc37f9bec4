using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.DataSubjects;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Tests.Apis;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Redis;
using static VoiceKraliki.CallState.Tests.Apis.TestCalls;
using static VoiceKraliki.CallState.Tests.Events.CallEventStreams;

namespace VoiceKraliki.CallState.Tests.DataSubjects;

/// <summary>
/// Retention events through the real broker into the real service, on the real Postgres and Redis: call metadata is
/// deleted or anonymized, answered with <see cref="RetentionEnforced"/>; other categories are left to their owners.
/// </summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallRetentionTests(CallStateInfrastructure infrastructure)
{
    private const string GeneratedOurs = "+15005550006";

    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Delete_removes_the_call_its_history_and_every_Redis_key_answers_one_and_a_redelivery_answers_again_with_none()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        var redis = host.Services.GetRequiredService<IRedisStore>();
        var cache = host.Services.GetRequiredService<CallCache>();
        var session = "session-" + Tag();
        var live = "v3:" + Tag();
        var ended = "v3:" + Tag();
        var kept = "v3:" + Tag();
        var t = TestCalls.Now();
        await host.ProcessAllAsync(
        [
            Event(live, CallStatus.Initiated, t, sessionId: session),
            Event(live, CallStatus.Ringing, t.AddSeconds(1), sessionId: session),
            Event(kept, CallStatus.Initiated, t, sessionId: session),
            Event(kept, CallStatus.Ringing, t.AddSeconds(1), sessionId: session),
            Event(ended, CallStatus.Initiated, t, sessionId: session),
            Event(ended, CallStatus.Completed, t.AddSeconds(2), sessionId: session),
        ]);
        var versions = new Dictionary<string, string>();
        foreach (var id in new[] { live, ended })
        {
            versions[id] = await redis.GetAsync(CallCache.VersionKey(id)) ?? throw new InvalidOperationException($"{id} is not in Redis");
            Assert.NotNull(await redis.GetAsync(CallCache.SnapshotKey(id, versions[id])));
            Assert.Equal(session, await redis.GetAsync(CallCache.CallSessionPrefix + id));
            Assert.NotEmpty(await host.TransitionsAsync([id]));
            Assert.NotEmpty(await host.OutboxAsync([id]));
        }

        Assert.Contains(live, await redis.SetMembersAsync(CallCache.LiveKey(TelephonyProvider.Telnyx)));
        Assert.Contains(live, await redis.SetMembersAsync(CallCache.SessionPrefix + session));
        var keptBefore = (await host.CallsAsync([kept]))[kept];
        var keptTransitions = await host.TransitionsAsync([kept]);

        var expiredLive = Expired(live, RetentionActions.Delete);
        var expiredEnded = Expired(ended, RetentionActions.Delete);
        await host.Bus.Publish(expiredLive);
        await host.Bus.Publish(expiredEnded);

        foreach (var (expired, id) in new[] { (expiredLive, live), (expiredEnded, ended) })
        {
            var answer = Assert.Single(await listener.Answers.RetentionsAsync(expired.EventId, 1));
            Assert.Equal(RetentionEnforced.IdFor("call-state", expired.EventId), answer.EventId);
            Assert.Equal(
                ("call-state", "call_metadata", id, "delete", 1, expired.CorrelationId),
                (answer.Service, answer.DataCategory, answer.ResourceId, answer.Action, answer.ItemsAffected, answer.CorrelationId));
            Assert.Empty(await host.CallsAsync([id]));
            Assert.Empty(await host.TransitionsAsync([id]));
            Assert.Empty(await host.OutboxAsync([id]));
            Assert.Null(await redis.GetAsync(CallCache.VersionKey(id)));
            Assert.Null(await redis.GetAsync(CallCache.SnapshotKey(id, versions[id])));
            Assert.Null(await redis.GetAsync(CallCache.CallSessionPrefix + id));
            Assert.Null(await cache.FindAsync(id, None));
            using var client = host.CreateClient();
            using var response = await client.GetAsync(Path(id));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.DoesNotContain(live, await redis.SetMembersAsync(CallCache.LiveKey(TelephonyProvider.Telnyx)));
        Assert.DoesNotContain(live, await redis.SetMembersAsync(CallCache.SessionPrefix + session));

        // The other call of the session is untouched, in Postgres and in Redis.
        Assert.Equivalent(keptBefore, (await host.CallsAsync([kept]))[kept], strict: true);
        Assert.Equivalent(keptTransitions, await host.TransitionsAsync([kept]), strict: true);
        Assert.Equal(CallStatus.Ringing, (await cache.FindAsync(kept, None))?.Status);
        Assert.Contains(kept, await redis.SetMembersAsync(CallCache.LiveKey(TelephonyProvider.Telnyx)));
        Assert.Contains(kept, await redis.SetMembersAsync(CallCache.SessionPrefix + session));
        Assert.Equal(session, await redis.GetAsync(CallCache.CallSessionPrefix + kept));

        await host.Bus.Publish(expiredLive);
        var answers = await listener.Answers.RetentionsAsync(expiredLive.EventId, 2);
        Assert.Single(answers.Select(a => a.EventId).Distinct());
        Assert.Equal([0, 1], answers.Select(a => a.ItemsAffected).Order());
    }

    [Fact]
    public async Task Anonymize_masks_both_numbers_drops_personal_metadata_keeps_state_and_times_rewrites_the_snapshot_and_is_idempotent()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        var subject = UniqueNumber();
        var ours = UniqueNumber();
        var tag = Tag();
        var random = new Random(2026);
        var start = TestCalls.Now();
        var amd = WithNumbers(Twilio(random, TwilioId(tag, 0), start, TwilioScenario.AnsweredWithAmdAndRecording), subject, ours);
        var sip = WithNumbers(Telnyx(random, TelnyxId(tag, 1), start, TelnyxScenario.InboundBridged), $"sip:{subject}@pbx.example.com", ours);
        var other = WithNumbers(Twilio(random, TwilioId(tag, 2), start, TwilioScenario.AnsweredWithAmdAndRecording), subject, ours);
        await host.ProcessAllAsync([.. amd, .. sip, .. other]);
        string[] anonymized = [amd[0].ProviderCallId, sip[0].ProviderCallId];
        var otherId = other[0].ProviderCallId;
        var before = await host.CallsAsync([.. anonymized, otherId]);
        var transitionsBefore = await host.TransitionsAsync(anonymized);
        foreach (var id in anonymized)
        {
            Assert.Contains(subject[1..], await RowTextAsync(host, id), StringComparison.Ordinal);
            Assert.Contains(subject[1..], await SnapshotJsonAsync(host, id), StringComparison.Ordinal);
        }

        var sweep = Guid.NewGuid();
        var events = anonymized.Select(id => Expired(id, RetentionActions.Anonymize, sweep: sweep)).ToList();
        foreach (var e in events)
        {
            await host.Bus.Publish(e);
        }

        foreach (var e in events)
        {
            var answer = Assert.Single(await listener.Answers.RetentionsAsync(e.EventId, 1));
            Assert.Equal(RetentionEnforced.IdFor("call-state", e.EventId), answer.EventId);
            Assert.Equal(
                ("call-state", "call_metadata", e.ResourceId, "anonymize", 1, e.CorrelationId),
                (answer.Service, answer.DataCategory, answer.ResourceId, answer.Action, answer.ItemsAffected, answer.CorrelationId));
        }

        var after = await host.CallsAsync(anonymized);
        using var client = host.CreateClient();
        foreach (var id in anonymized)
        {
            var (was, now) = (before[id], after[id]);
            Assert.Equal(SubjectNumber.Mask(ours), now.From == SubjectNumber.Mask(subject) ? now.To : now.From);
            Assert.Equal(SubjectNumber.Mask(subject), now.From == SubjectNumber.Mask(ours) ? now.To : now.From);
            foreach (var digits in new[] { subject[1..], ours[1..] })
            {
                Assert.DoesNotContain(digits, await RowTextAsync(host, id), StringComparison.Ordinal);
                Assert.DoesNotContain(digits, await SnapshotJsonAsync(host, id), StringComparison.Ordinal);
            }

            // What is not about a person stays: state, times, provider outcomes.
            Assert.Equal(
                (was.Provider, was.Direction, was.Status, was.EndReason, was.SessionId, was.CreatedAt, was.UpdatedAt, was.AnsweredAt, was.EndedAt, was.AppliedTransitions),
                (now.Provider, now.Direction, now.Status, now.EndReason, now.SessionId, now.CreatedAt, now.UpdatedAt, now.AnsweredAt, now.EndedAt, now.AppliedTransitions));
            var metadata = JsonDocument.Parse(now.Metadata).RootElement;
            foreach (var gone in new[] { CallMetadata.RawFields, CallMetadata.ClientState, CallMetadata.Recording })
            {
                Assert.False(metadata.TryGetProperty(gone, out _), $"{id}: metadata.{gone} was kept");
            }

            Assert.Equal(sweep.ToString("D"), metadata.GetProperty(CallAnonymizer.Retention).GetProperty("sweep").GetString());
            Assert.Equal(
                JsonDocument.Parse(was.Metadata).RootElement.GetProperty(CallMetadata.LastEventType).GetString(),
                metadata.GetProperty(CallMetadata.LastEventType).GetString());

            var cached = JsonSerializer.Deserialize<CallView>(await SnapshotJsonAsync(host, id), CallView.JsonOptions)!;
            Assert.Equal((now.From, now.To, now.Status), (cached.From, cached.To, cached.Status));
            var view = await GetJsonAsync(client, Path(id));
            Assert.Equal((now.From, now.To), (view.GetProperty("from").GetString(), view.GetProperty("to").GetString()));
        }

        Assert.Equal("human", JsonDocument.Parse(after[amd[0].ProviderCallId].Metadata).RootElement.GetProperty(CallMetadata.AnsweredBy).GetString());
        Assert.Equal("normal_clearing", JsonDocument.Parse(after[sip[0].ProviderCallId].Metadata).RootElement.GetProperty(CallMetadata.HangupCause).GetString());
        Assert.Equivalent(transitionsBefore, await host.TransitionsAsync(anonymized), strict: true);
        Assert.Equivalent(before[otherId], (await host.CallsAsync([otherId]))[otherId], strict: true);
        Assert.Contains(subject[1..], await SnapshotJsonAsync(host, otherId), StringComparison.Ordinal);

        // A redelivery changes nothing and answers the same event again.
        await host.Bus.Publish(events[0]);
        var again = await listener.Answers.RetentionsAsync(events[0].EventId, 2);
        Assert.Single(again.Select(a => a.EventId).Distinct());
        Assert.All(again, a => Assert.Equal(1, a.ItemsAffected));
        Assert.Equivalent(after, await host.CallsAsync(anonymized), strict: true);

        // A later sweep does not mask the masked numbers again; only its marker is new.
        var later = Expired(amd[0].ProviderCallId, RetentionActions.Anonymize);
        await host.Bus.Publish(later);
        Assert.Equal(1, Assert.Single(await listener.Answers.RetentionsAsync(later.EventId, 1)).ItemsAffected);
        var (first, second) = (after[later.ResourceId], (await host.CallsAsync([later.ResourceId]))[later.ResourceId]);
        Assert.Equal((first.From, first.To), (second.From, second.To));
        var secondMetadata = JsonDocument.Parse(second.Metadata).RootElement;
        Assert.Equal(later.SweepId.ToString("D"), secondMetadata.GetProperty(CallAnonymizer.Retention).GetProperty("sweep").GetString());
        Assert.Equal(
            JsonDocument.Parse(first.Metadata).RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal),
            secondMetadata.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Anonymize_or_delete_of_a_call_that_does_not_exist_answers_with_nothing_affected()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var events = new[] { Expired("CA-none-" + Tag(), RetentionActions.Anonymize), Expired("CA-none-" + Tag(), RetentionActions.Delete) };

        foreach (var e in events)
        {
            await host.Bus.Publish(e);
        }

        foreach (var e in events)
        {
            var answer = Assert.Single(await listener.Answers.RetentionsAsync(e.EventId, 1));
            Assert.Equal(("call-state", e.Action, 0), (answer.Service, answer.Action, answer.ItemsAffected));
        }
    }

    [Fact]
    public async Task Other_categories_are_ignored_without_an_answer_and_an_unknown_action_is_dead_lettered()
    {
        var consumed = new RetentionConsumption();
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(
            infrastructure, services => services.AddConsumeObserver(_ => consumed), ("EventBus:RetryIntervals:0", "10"));
        await WaitUntilServingAsync(host);
        var callId = "v3:" + Tag();
        var t = TestCalls.Now();
        await host.ProcessAllAsync([Event(callId, CallStatus.Initiated, t), Event(callId, CallStatus.Completed, t.AddSeconds(3))]);
        var before = (await host.CallsAsync([callId]))[callId];
        var snapshot = await SnapshotJsonAsync(host, callId);

        var ignored = new[]
        {
            Expired(callId, RetentionActions.Delete, DataCategories.Recording),
            Expired(callId, RetentionActions.Anonymize, DataCategories.Transcript),
            Expired(callId, RetentionActions.Delete, "something_else"),
        };
        var unknown = Expired(callId, "shred");
        foreach (var e in ignored.Append(unknown))
        {
            await host.Bus.Publish(e);
        }

        await Eventually(() => Task.FromResult(ignored.All(e => consumed.Completed.ContainsKey(e.EventId))), because: "the ignored events were not consumed");
        await Eventually(() => Task.FromResult(consumed.Faulted.ContainsKey(unknown.EventId)), because: "the unknown action did not fail");
        Assert.False(consumed.Completed.ContainsKey(unknown.EventId));

        // An answered event after them: had they been answered, those answers would have been published first.
        var barrier = Expired("CA-none-" + Tag(), RetentionActions.Delete);
        await host.Bus.Publish(barrier);
        await listener.Answers.RetentionsAsync(barrier.EventId, 1);
        Assert.Empty(listener.Answers.RetentionsTo([.. ignored.Append(unknown).Select(e => e.EventId)]));
        Assert.Equivalent(before, (await host.CallsAsync([callId]))[callId], strict: true);
        Assert.Equal(snapshot, await SnapshotJsonAsync(host, callId));
    }

    [Theory]
    [InlineData("+15550100123", "+*******0123")]
    [InlineData("+*******0123", "+*******0123")]
    [InlineData("sip:+420777123456@pbx.example.com", "+********3456")]
    [InlineData("TEL:+420777123456", "+********3456")]
    [InlineData("sip:alice@pbx.example.com", "***")]
    [InlineData("client:agent-0042", "***0042")]
    [InlineData("***0042", "***0042")]
    [InlineData("", "")]
    [InlineData(null, null)]
    public void A_stored_number_is_masked_once_whatever_its_form(string? stored, string? masked)
    {
        Assert.Equal(masked, CallAnonymizer.MaskStored(stored));
        Assert.Equal(masked, CallAnonymizer.MaskStored(masked));
    }

    private static RetentionExpired Expired(string callId, string action, string category = DataCategories.CallMetadata, Guid? sweep = null) => new(
        Guid.NewGuid(),
        DateTimeOffset.UtcNow,
        "corr-" + Tag(),
        category,
        "eu",
        callId,
        DateTimeOffset.UtcNow.AddDays(-1),
        action,
        sweep ?? Guid.NewGuid());

    /// <summary>The events with the generated customer's number replaced by <paramref name="customer"/>, ours by <paramref name="ours"/>.</summary>
    private static List<CallEventReceived> WithNumbers(List<CallEventReceived> events, string customer, string ours)
    {
        var generated = events[0].From == GeneratedOurs ? events[0].To! : events[0].From!;
        string? Swap(string? value) => value?.Replace(generated, customer, StringComparison.Ordinal).Replace(GeneratedOurs, ours, StringComparison.Ordinal);
        return events.ConvertAll(e => e with
        {
            From = Swap(e.From),
            To = Swap(e.To),
            RawFields = e.RawFields.ToDictionary(p => p.Key, p => Swap(p.Value)!, StringComparer.Ordinal),
        });
    }

    /// <summary>The call's whole row as text: what must not hold the numbers any more.</summary>
    private static async Task<string> RowTextAsync(CallStateHost host, string callId)
    {
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = dataSource.CreateCommand("SELECT c::text FROM calls AS c WHERE provider_call_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = callId });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string> SnapshotJsonAsync(CallStateHost host, string callId)
    {
        var redis = host.Services.GetRequiredService<IRedisStore>();
        var version = await redis.GetAsync(CallCache.VersionKey(callId));
        Assert.NotNull(version);
        var json = await redis.GetAsync(CallCache.SnapshotKey(callId, version));
        Assert.NotNull(json);
        return json;
    }

    /// <summary>Which retention events call-state's consumer finished, and which it failed.</summary>
    private sealed class RetentionConsumption : IConsumeObserver
    {
        public ConcurrentDictionary<Guid, bool> Completed { get; } = new();

        public ConcurrentDictionary<Guid, bool> Faulted { get; } = new();

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            if (context.Message is RetentionExpired e)
            {
                Completed[e.EventId] = true;
            }

            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
        {
            if (context.Message is RetentionExpired e)
            {
                Faulted[e.EventId] = true;
            }

            return Task.CompletedTask;
        }
    }
}
