using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Tests.Events;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.Tests.Persistence;

/// <summary>The hand-written schema as the service applies it to the real Postgres, and the EF model over it.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallStateSchemaTests(CallStateInfrastructure infrastructure)
{
    [Fact]
    public void The_calls_migration_is_embedded_after_the_inbox()
    {
        var ids = new MigrationSource(typeof(Program).Assembly).Load().Select(m => m.Id).ToList();
        Assert.Equal(["0001_inbox", "0002_calls"], ids.Take(2));
    }

    [Fact]
    public async Task The_service_creates_the_tables_and_the_indexes_its_queries_need()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await using var dataSource = NpgsqlDataSource.Create(infrastructure.Postgres);
        var indexes = new Dictionary<string, string>();
        await using (var command = dataSource.CreateCommand("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes[reader.GetString(0)] = reader.GetString(1);
            }
        }

        Assert.Contains("(status, created_at, provider_call_id) WHERE (status <> ALL", indexes["ix_calls_active"]);
        Assert.Contains("(session_id)", indexes["ix_calls_session_id"]);
        Assert.Contains("(provider, direction, created_at, provider_call_id)", indexes["ix_calls_provider_direction_created"]);
        Assert.Contains("(call_id, committed_at, id)", indexes["ix_call_transitions_call_committed"]);
        Assert.Contains("(created_at, id) WHERE (published_at IS NULL)", indexes["ix_outbox_messages_unpublished"]);
        Assert.Contains("UNIQUE", indexes["ux_call_transitions_event_id"]);
        Assert.Contains("inbox_messages_pkey", indexes.Keys);

        // The EF model reads and writes every table it maps.
        await using var db = host.NewDbContext();
        await db.Calls.AsNoTracking().OrderBy(c => c.CreatedAt).Take(1).ToListAsync();
        await db.CallTransitions.AsNoTracking().OrderBy(t => t.Id).Take(1).ToListAsync();
        await db.InboxMessages.AsNoTracking().OrderBy(i => i.ProcessedAt).Take(1).ToListAsync();
        await db.OutboxMessages.AsNoTracking().OrderBy(o => o.CreatedAt).Take(1).ToListAsync();
    }

    [Fact]
    public async Task States_are_stored_as_snake_case_text_and_metadata_keeps_the_providers_details()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var tag = Tag();
        var events = CallEventStreams.Twilio(new Random(7), CallEventStreams.TwilioId(tag, 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Machine);
        await host.ProcessAllAsync(events);
        var callId = events[0].ProviderCallId;

        await using var dataSource = NpgsqlDataSource.Create(infrastructure.Postgres);
        await using var command = dataSource.CreateCommand(
            "SELECT status, end_reason, provider, direction, metadata::text FROM calls WHERE provider_call_id = $1");
        command.Parameters.AddWithValue(callId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("completed", reader.GetString(0));
        Assert.Equal("machine_detected", reader.GetString(1));
        Assert.Equal("twilio", reader.GetString(2));
        Assert.Equal("outbound", reader.GetString(3));

        using var metadata = JsonDocument.Parse(reader.GetString(4));
        Assert.Equal("machine_start", metadata.RootElement.GetProperty(CallMetadata.AnsweredBy).GetString());
        Assert.Equal("call.completed", metadata.RootElement.GetProperty(CallMetadata.LastEventType).GetString());
        Assert.Equal(callId, metadata.RootElement.GetProperty(CallMetadata.RawFields).GetProperty("CallSid").GetString());
    }

    [Fact]
    public async Task A_call_on_hold_reads_back_through_the_model_as_it_was_written()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var events = CallEventStreams.Telnyx(new Random(3), CallEventStreams.TelnyxId(Tag(), 0), CallEventStreams.Now(), CallEventStreams.TelnyxScenario.Hold);
        var onHold = events.TakeWhile(e => e.EventType != "call.unhold").ToList();
        var results = await host.ProcessAllAsync(onHold);
        var expected = results[^1].Decision!.Next;

        var call = (await host.CallsAsync([expected.ProviderCallId]))[expected.ProviderCallId];
        Assert.Equal(CallStatus.OnHold, call.Status);
        Assert.Equal(expected, call.ToSnapshot());
        Assert.Equal("aGVsbG8=", JsonDocument.Parse(call.Metadata).RootElement.GetProperty(CallMetadata.ClientState).GetString());
    }

    [Fact]
    public async Task Keyset_pages_by_provider_and_direction_return_every_call_once_in_order()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var tag = Tag();
        var start = CallEventStreams.Now().AddYears(50);
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            // Some calls share a creation time: the call id breaks the tie.
            var events = CallEventStreams.Telnyx(new Random(i), CallEventStreams.TelnyxId(tag, i), start.AddSeconds(i / 3), CallEventStreams.TelnyxScenario.Answered);
            var first = events[0] with { ReceivedAt = start.AddSeconds(i / 3) };
            await host.Processor.ProcessAsync(first, CancellationToken.None);
            ids.Add(first.ProviderCallId);
        }

        await using var db = host.NewDbContext();
        var seen = new List<CallRecord>();
        DateTimeOffset? afterCreated = null;
        string? afterId = null;
        while (true)
        {
            var query = db.Calls.AsNoTracking()
                .Where(c => c.Provider == TelephonyProvider.Telnyx && c.Direction == CallDirection.Outbound && c.CreatedAt >= start);
            if (afterCreated is { } created)
            {
                query = query.Where(c => c.CreatedAt > created || (c.CreatedAt == created && string.Compare(c.ProviderCallId, afterId) > 0));
            }

            var page = await query.OrderBy(c => c.CreatedAt).ThenBy(c => c.ProviderCallId).Take(7).ToListAsync();
            if (page.Count == 0)
            {
                break;
            }

            seen.AddRange(page);
            (afterCreated, afterId) = (page[^1].CreatedAt, page[^1].ProviderCallId);
        }

        var mine = seen.Where(c => ids.Contains(c.ProviderCallId)).ToList();
        Assert.Equal(ids.Count, mine.Count);
        Assert.Equal(mine.Count, mine.Select(c => c.ProviderCallId).Distinct().Count());
        Assert.Equal(mine.OrderBy(c => c.CreatedAt).ThenBy(c => c.ProviderCallId, StringComparer.Ordinal).Select(c => c.ProviderCallId), mine.Select(c => c.ProviderCallId));
    }

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];
}
