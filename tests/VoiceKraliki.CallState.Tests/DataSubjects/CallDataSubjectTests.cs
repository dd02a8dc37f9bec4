using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.DataSubjects;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Tests.Apis;
using VoiceKraliki.CallState.Tests.Events;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Redis;
using static VoiceKraliki.CallState.Tests.Events.CallEventStreams;

namespace VoiceKraliki.CallState.Tests.DataSubjects;

/// <summary>
/// Erasure and export requests through the real broker into the real service, on the real Postgres and Redis, with
/// calls made of real Twilio and Telnyx webhooks carrying the subject's number in From/To and in the raw fields.
/// </summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallDataSubjectTests(CallStateInfrastructure infrastructure)
{
    private const string Ours = "+15005550006";

    [Fact]
    public async Task Erasure_masks_the_number_in_every_call_and_snapshot_leaves_other_calls_alone_and_a_redelivery_answers_the_same()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await TestCalls.WaitUntilServingAsync(host);
        var subject = TestCalls.UniqueNumber();
        var digits = subject[1..];
        var calls = SubjectCalls(TestCalls.Tag(), subject, out var unrelated);
        await host.ProcessAllAsync(calls.SelectMany(c => c.Events));
        var subjectIds = calls.Select(c => c.ProviderCallId).Where(id => id != unrelated).ToList();
        var unrelatedBefore = (await host.CallsAsync([unrelated]))[unrelated];
        Assert.NotEqual(0, await RowsContainingAsync(host, "calls", digits));
        Assert.Contains(digits, await SnapshotJsonAsync(host, subjectIds[0]), StringComparison.Ordinal);

        var request = new DataErasureRequested(Guid.NewGuid(), DateTimeOffset.UtcNow, "corr-" + TestCalls.Tag(), Guid.NewGuid(), subject, DateTimeOffset.UtcNow.AddDays(30));
        await host.Bus.Publish(request);
        var answer = Assert.Single(await listener.Answers.ErasuresAsync(request.RequestId, 1));

        Assert.Equal("call-state", answer.Service);
        Assert.Equal(subjectIds.Count, answer.ItemsErased);
        Assert.Equal(["call_metadata"], answer.Categories);
        Assert.Equal(request.CorrelationId, answer.CorrelationId);
        foreach (var table in new[] { "calls", "call_transitions", "outbox_messages" })
        {
            Assert.Equal(0, await RowsContainingAsync(host, table, digits));
        }

        var masked = SubjectNumber.Mask(subject);
        var stored = await host.CallsAsync(subjectIds);
        Assert.All(stored.Values, c => Assert.True(c.From == masked || c.To == masked, $"{c.ProviderCallId}: {c.From} -> {c.To}"));
        Assert.All(stored.Values, c => Assert.True(c.From == Ours || c.To == Ours, $"{c.ProviderCallId}: our side kept"));
        using var client = host.CreateClient();
        foreach (var id in subjectIds)
        {
            var snapshot = await SnapshotJsonAsync(host, id);
            Assert.DoesNotContain(digits, snapshot, StringComparison.Ordinal);
            var cached = JsonSerializer.Deserialize<CallView>(snapshot, CallView.JsonOptions)!;
            Assert.Contains(masked, new[] { cached.From, cached.To });
            var view = await TestCalls.GetJsonAsync(client, TestCalls.Path(id));
            Assert.Contains(masked, new[] { view.GetProperty("from").GetString(), view.GetProperty("to").GetString() });
        }

        // What is not about a person stays: the AMD result of the answered call.
        Assert.Equal("human", JsonDocument.Parse(stored[calls[0].ProviderCallId].Metadata).RootElement.GetProperty(CallMetadata.AnsweredBy).GetString());
        var unrelatedAfter = (await host.CallsAsync([unrelated]))[unrelated];
        Assert.Equivalent(unrelatedBefore, unrelatedAfter, strict: true);

        await host.Bus.Publish(request);
        var answers = await listener.Answers.ErasuresAsync(request.RequestId, 2);
        Assert.Equal(answer.EventId, answers[1].EventId);
        Assert.Equal(answer.ItemsErased, answers[1].ItemsErased);
        var storedAgain = await host.CallsAsync(subjectIds);
        Assert.All(stored, p => Assert.Equivalent(p.Value, storedAgain[p.Key], strict: true));
    }

    [Fact]
    public async Task Erasure_of_a_number_with_no_calls_answers_with_nothing_erased()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var request = new DataErasureRequested(Guid.NewGuid(), DateTimeOffset.UtcNow, "corr-none", Guid.NewGuid(), TestCalls.UniqueNumber(), DateTimeOffset.UtcNow.AddDays(30));

        await host.Bus.Publish(request);

        var answer = Assert.Single(await listener.Answers.ErasuresAsync(request.RequestId, 1));
        Assert.Equal(("call-state", 0), (answer.Service, answer.ItemsErased));
    }

    [Fact]
    public async Task Export_lists_exactly_the_numbers_calls_with_their_history_as_json()
    {
        await using var listener = await DataSubjectListener.StartAsync(infrastructure);
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var subject = TestCalls.UniqueNumber();
        var calls = SubjectCalls(TestCalls.Tag(), subject, out var unrelated);
        await host.ProcessAllAsync(calls.SelectMany(c => c.Events));
        var subjectCalls = calls.Where(c => c.ProviderCallId != unrelated).ToDictionary(c => c.ProviderCallId);
        var request = new DataExportRequested(Guid.NewGuid(), DateTimeOffset.UtcNow, "corr-export", Guid.NewGuid(), subject, DateTimeOffset.UtcNow.AddDays(30));

        await host.Bus.Publish(request);

        var answer = Assert.Single(await listener.Answers.ExportsAsync(request.RequestId, 1));
        Assert.Equal("call-state", answer.Service);
        var export = JsonDocument.Parse(answer.ContentJson).RootElement;
        Assert.Equal("call-state", export.GetProperty("service").GetString());
        Assert.Equal(subject, export.GetProperty("phoneNumber").GetString());
        var exported = export.GetProperty("calls").EnumerateArray().ToList();
        Assert.Equal(subjectCalls.Keys.Order(StringComparer.Ordinal), exported.Select(c => c.GetProperty("providerCallId").GetString()!).Order(StringComparer.Ordinal));
        var stored = await host.CallsAsync(subjectCalls.Keys);
        foreach (var call in exported)
        {
            var id = call.GetProperty("providerCallId").GetString()!;
            Assert.Equal(stored[id].From, call.GetProperty("from").GetString());
            Assert.Equal(stored[id].To, call.GetProperty("to").GetString());
            Assert.Equal(stored[id].Status.ToString(), call.GetProperty("status").GetString());
            Assert.Equal(stored[id].Provider.ToString(), call.GetProperty("provider").GetString());
            var history = call.GetProperty("history").EnumerateArray().ToList();
            // One entry per event, applied or ignored, in commit order.
            Assert.Equal(subjectCalls[id].Events.Select(e => e.EventType), history.Select(h => h.GetProperty("eventType").GetString()));
            Assert.All(history, h => Assert.Contains(h.GetProperty("outcome").GetString(), new[] { "Applied", "Ignored" }));
            Assert.Equal(JsonValueKind.String, history[^1].GetProperty("toStatus").ValueKind);
        }
    }

    [Theory]
    [InlineData("+15550100123", "+*******0123")]
    [InlineData("+420777123456", "+********3456")]
    public void A_number_is_masked_to_its_last_four_digits(string number, string masked) =>
        Assert.Equal(masked, SubjectNumber.Mask(number));

    /// <summary>
    /// The subject's calls (outbound to them with AMD and a recording, inbound from them, a Telnyx call from their SIP
    /// address, one still ringing to them), then one unrelated call (its id in <paramref name="unrelated"/>).
    /// </summary>
    private static List<Call> SubjectCalls(string tag, string subject, out string unrelated)
    {
        var random = new Random(2026);
        var start = Now();
        var amd = Customer(Twilio(random, TwilioId(tag, 0), start, TwilioScenario.AnsweredWithAmdAndRecording), subject);
        var inbound = Customer(Twilio(random, TwilioId(tag, 1), start.AddSeconds(1), TwilioScenario.Inbound), subject);
        var sip = Customer(Telnyx(random, TelnyxId(tag, 2), start.AddSeconds(2), TelnyxScenario.InboundBridged), $"sip:{subject}@pbx.example.com");
        var ringing = Customer(Twilio(random, TwilioId(tag, 3), start.AddSeconds(3), TwilioScenario.Answered), subject)[..2];
        var other = Twilio(random, TwilioId(tag, 4), start.AddSeconds(4), TwilioScenario.Answered);
        unrelated = other[0].ProviderCallId;
        return [.. new[] { amd, inbound, sip, ringing, other }.Select(events => new Call(events[0].ProviderCallId, events))];
    }

    /// <summary>The events with the generated customer number replaced by <paramref name="number"/> everywhere.</summary>
    private static List<CallEventReceived> Customer(List<CallEventReceived> events, string number)
    {
        var customer = events[0].From == Ours ? events[0].To! : events[0].From!;
        string? Swap(string? value) => value?.Replace(customer, number, StringComparison.Ordinal);
        return events.ConvertAll(e => e with
        {
            From = Swap(e.From),
            To = Swap(e.To),
            RawFields = e.RawFields.ToDictionary(p => p.Key, p => Swap(p.Value)!, StringComparer.Ordinal),
        });
    }

    private static async Task<long> RowsContainingAsync(CallStateHost host, string table, string digits)
    {
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        // The table name is one of ours, never input.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {table} AS t WHERE strpos(t::text, $1) > 0");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = digits });
        return (long)(await command.ExecuteScalarAsync())!;
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
}
