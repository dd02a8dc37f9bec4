using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using Xunit.Abstractions;
using static VoiceKraliki.CallState.Tests.Apis.TestCalls;

namespace VoiceKraliki.CallState.Tests.Apis;

/// <summary><c>/api/calls</c> of the real service on the real servers.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallsApiTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    private const string OperatorKey = "vk_test_operator_0123456789";
    private const string ServiceKey = "vk_test_service_0123456789";

    private static readonly (string, string?)[] MoreKeys =
    [
        ("Auth:ApiKeys:1:Key", OperatorKey), ("Auth:ApiKeys:1:Roles", "operator"),
        ("Auth:ApiKeys:2:Key", ServiceKey), ("Auth:ApiKeys:2:Roles", "service"),
    ];

    private static readonly string[] CallFields =
    [
        "providerCallId", "sessionId", "provider", "direction", "status", "endReason", "from", "to", "createdAt",
        "updatedAt", "answeredAt", "endedAt", "appliedTransitions", "answeredBy", "hangupCause", "stuckSince",
    ];

    [Fact]
    public async Task Every_calls_endpoint_answers_401_without_credentials_403_to_a_service_key_and_200_to_operator_and_admin()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure, MoreKeys);
        var callId = "v3:" + Tag();
        await host.ProcessAllAsync(Through(callId, Now(), CallStatus.Initiated));
        using var anonymous = host.CreateClient(apiKey: null);
        using var service = host.CreateClient(ServiceKey);
        using var operatorClient = host.CreateClient(OperatorKey);
        using var admin = host.CreateClient();

        foreach (var path in new[] { "/api/calls", "/api/calls/active", Path(callId), Path(callId) + "/history" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await service.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(path)).StatusCode);
        }

        // The service-info endpoint under the same prefix keeps its own rule: any authenticated caller.
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync("/api/calls/info")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/calls/info")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_call_is_a_404_problem_for_the_call_and_for_its_history()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();

        foreach (var path in new[] { Path("CA-unknown-" + Tag()), Path("CA-unknown-" + Tag()) + "/history" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(404, problem.GetProperty("status").GetInt32());
            Assert.Equal("Call not found", problem.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task A_call_is_found_by_its_provider_call_id_and_by_its_session_id_with_every_field()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();
        var callId = "v3:" + Tag();
        var session = "session-" + Tag();
        var t = Now();
        await host.ProcessAllAsync(
        [
            Event(callId, CallStatus.Initiated, t, direction: CallDirection.Inbound, from: "+420777000111", to: "+420777000222", sessionId: session),
            Event(callId, CallStatus.Answered, t.AddSeconds(3), direction: CallDirection.Inbound, sessionId: session, answeredBy: "human"),
        ]);

        var call = await GetJsonAsync(client, Path(callId));
        Assert.Equal(CallFields.Order(), call.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(callId, call.GetProperty("providerCallId").GetString());
        Assert.Equal(session, call.GetProperty("sessionId").GetString());
        Assert.Equal("Telnyx", call.GetProperty("provider").GetString());
        Assert.Equal("Inbound", call.GetProperty("direction").GetString());
        Assert.Equal("Answered", call.GetProperty("status").GetString());
        Assert.Equal("None", call.GetProperty("endReason").GetString());
        Assert.Equal("+420777000111", call.GetProperty("from").GetString());
        Assert.Equal("+420777000222", call.GetProperty("to").GetString());
        Assert.Equal(t.AddMilliseconds(200), call.GetProperty("createdAt").GetDateTimeOffset());
        Assert.Equal(t.AddSeconds(3).AddMilliseconds(200), call.GetProperty("updatedAt").GetDateTimeOffset());
        Assert.Equal(t.AddSeconds(3), call.GetProperty("answeredAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("endedAt").ValueKind);
        Assert.Equal(2, call.GetProperty("appliedTransitions").GetInt32());
        Assert.Equal("human", call.GetProperty("answeredBy").GetString());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("hangupCause").ValueKind);
        Assert.Equal(JsonValueKind.Null, call.GetProperty("stuckSince").ValueKind);

        Assert.Equal(call.ToString(), (await GetJsonAsync(client, Path(session))).ToString());

        await host.ProcessAllAsync([Event(callId, CallStatus.Completed, t.AddSeconds(9), sessionId: session, hangupCause: "normal_clearing")]);
        var ended = await GetJsonAsync(client, Path(callId));
        Assert.Equal("Completed", ended.GetProperty("status").GetString());
        Assert.Equal("Normal", ended.GetProperty("endReason").GetString());
        Assert.Equal(t.AddSeconds(9), ended.GetProperty("endedAt").GetDateTimeOffset());
        Assert.Equal("normal_clearing", ended.GetProperty("hangupCause").GetString());
        Assert.Equal("human", ended.GetProperty("answeredBy").GetString());
    }

    [Fact]
    public async Task Each_bad_list_parameter_is_a_400_validation_problem_naming_that_parameter()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();
        var notOurCursor = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("2|638000000000000000|CA1"));
        (string Query, string Parameter)[] cases =
        [
            ("status=bogus", "status"),
            ("status=3", "status"),
            ("provider=vonage", "provider"),
            ("direction=sideways", "direction"),
            ("since=yesterday", "since"),
            ("until=2025-13-45", "until"),
            ("since=2025-06-10T12:00:00Z&until=2025-06-09T12:00:00Z", "until"),
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("limit=-1", "limit"),
            ("limit=ten", "limit"),
            ("cursor=%21%21%21", "cursor"),
            ("cursor=" + notOurCursor, "cursor"),
            ("from=" + new string('1', 300), "from"),
        ];

        foreach (var (query, parameter) in cases)
        {
            using var response = await client.GetAsync("/api/calls?" + query);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
            Assert.Equal([parameter], errors.EnumerateObject().Select(e => e.Name));
            output.WriteLine($"{query} -> {errors}");
        }

        // The limits themselves are fine.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/calls?limit=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/calls?limit=500&status=ON_HOLD&provider=Twilio&direction=inbound")).StatusCode);
    }

    [Fact]
    public async Task Keyset_paging_over_120_calls_returns_every_call_once_newest_first()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();
        var from = UniqueNumber();
        var tag = Tag();
        var t0 = Now().AddMinutes(-30);
        // Four calls share each creation time, so pages also break between calls of equal created_at.
        var events = Enumerable.Range(0, 120)
            .Select(i => Event($"v3:{tag}-{i:d3}", CallStatus.Initiated, t0.AddSeconds(i / 4), from: from, receivedAt: t0.AddSeconds(i / 4)))
            .ToList();
        await host.ProcessAllAsync(Shuffled(events));

        var seen = new List<(DateTimeOffset CreatedAt, string Id)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await GetJsonAsync(client, $"/api/calls?from={Uri.EscapeDataString(from)}&limit=7" + (cursor is null ? "" : "&cursor=" + cursor));
            var items = page.GetProperty("items").EnumerateArray().ToList();
            seen.AddRange(items.Select(c => (c.GetProperty("createdAt").GetDateTimeOffset(), c.GetProperty("providerCallId").GetString()!)));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
            Assert.True(cursor is null || items.Count == 7, "only the last page may be short");
        }
        while (cursor is not null);

        Assert.Equal(18, pages);
        Assert.Equal(120, seen.Count);
        Assert.Equal(120, seen.Select(s => s.Id).Distinct().Count());
        var expected = events
            .Select(e => (CreatedAt: e.ReceivedAt, Id: e.ProviderCallId))
            .OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, seen);

        var whole = await GetJsonAsync(client, $"/api/calls?from={Uri.EscapeDataString(from)}&limit=120");
        Assert.Equal(120, whole.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextCursor").ValueKind);

        var first = await GetJsonAsync(client, $"/api/calls?from={Uri.EscapeDataString(from)}");
        Assert.Equal(50, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, first.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task The_list_filters_by_status_provider_direction_numbers_and_creation_time()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();
        var from = UniqueNumber();
        var tag = Tag();
        var t0 = Now().AddHours(-1);
        var ringing = $"v3:{tag}-ringing";
        var completed = $"CA{tag}completed";
        var answered = $"v3:{tag}-answered";
        await host.ProcessAllAsync(
        [
            Event(ringing, CallStatus.Initiated, t0, from: from, to: "+420111"),
            Event(ringing, CallStatus.Ringing, t0.AddSeconds(1), from: from, to: "+420111"),
            Event(completed, CallStatus.Initiated, t0.AddMinutes(10), TelephonyProvider.Twilio, CallDirection.Inbound, from, "+420222"),
            Event(completed, CallStatus.Completed, t0.AddMinutes(10).AddSeconds(2), TelephonyProvider.Twilio, CallDirection.Inbound, from, "+420222"),
            Event(answered, CallStatus.Answered, t0.AddMinutes(20), direction: CallDirection.Inbound, from: from, to: "+420222"),
        ]);

        async Task<string[]> Ids(string query) =>
            [.. (await GetJsonAsync(client, $"/api/calls?from={Uri.EscapeDataString(from)}&{query}"))
                .GetProperty("items").EnumerateArray().Select(c => c.GetProperty("providerCallId").GetString()!)];

        string Time(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

        Assert.Equal([answered, completed, ringing], await Ids("limit=10"));
        Assert.Equal([ringing], await Ids("status=ringing"));
        Assert.Equal([completed], await Ids("status=Completed"));
        Assert.Empty(await Ids("status=on_hold"));
        Assert.Equal([completed], await Ids("provider=twilio"));
        Assert.Equal([answered, ringing], await Ids("provider=Telnyx"));
        Assert.Equal([answered, completed], await Ids("direction=inbound"));
        Assert.Equal([answered], await Ids("provider=telnyx&direction=inbound"));
        Assert.Equal([answered, completed], await Ids("to=" + Uri.EscapeDataString("+420222")));
        Assert.Equal([answered, completed], await Ids("since=" + Time(t0.AddMinutes(5))));
        Assert.Equal([completed, ringing], await Ids("until=" + Time(t0.AddMinutes(15))));
        Assert.Equal([completed], await Ids($"since={Time(t0.AddMinutes(5))}&until={Time(t0.AddMinutes(15))}"));
    }

    [Fact]
    public async Task History_lists_applied_and_ignored_events_with_why_in_commit_order()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var client = host.CreateClient();
        var callId = "v3:" + Tag();
        var session = "session-" + Tag();
        var t = Now();
        List<CallEventReceived> events =
        [
            Event(callId, CallStatus.Initiated, t, sessionId: session),
            Event(callId, CallStatus.Answered, t.AddSeconds(3)),
            Event(callId, CallStatus.Ringing, t.AddSeconds(1)),
            Event(callId, null, t.AddSeconds(4)),
            Event(callId, CallStatus.Completed, t.AddSeconds(5)),
            Event(callId, CallStatus.Answered, t.AddSeconds(6)),
        ];
        await host.ProcessAllAsync(events);

        var history = await GetJsonAsync(client, Path(callId) + "/history");
        Assert.Equal(callId, history.GetProperty("providerCallId").GetString());
        var items = history.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(
            ["committedAt", "endReason", "eventId", "eventType", "fromStatus", "id", "ignoredBecause", "outcome", "providerTime", "receivedAt", "sequence", "toStatus"],
            items[0].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(events.Select(e => e.EventId), items.Select(i => i.GetProperty("eventId").GetGuid()));
        Assert.Equal(["Applied", "Applied", "Ignored", "Ignored", "Applied", "Ignored"], items.Select(i => i.GetProperty("outcome").GetString()));
        var ids = items.Select(i => i.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("fromStatus").ValueKind);
        Assert.Equal("Initiated", items[0].GetProperty("toStatus").GetString());
        Assert.Equal("Initiated", items[1].GetProperty("fromStatus").GetString());
        Assert.Equal("Answered", items[1].GetProperty("toStatus").GetString());
        Assert.StartsWith("stale: provider time", items[2].GetProperty("ignoredBecause").GetString());
        Assert.Equal("no state change in event call.dtmf.received", items[3].GetProperty("ignoredBecause").GetString());
        Assert.Equal("Completed", items[4].GetProperty("toStatus").GetString());
        Assert.Equal("Normal", items[4].GetProperty("endReason").GetString());
        Assert.Equal("terminal state Completed", items[5].GetProperty("ignoredBecause").GetString());
        Assert.All(items.Where(i => i.GetProperty("outcome").GetString() == "Applied"),
            i => Assert.Equal(JsonValueKind.Null, i.GetProperty("ignoredBecause").ValueKind));
        Assert.Equal(t.AddSeconds(3), items[1].GetProperty("providerTime").GetDateTimeOffset());
        Assert.Equal(t.AddSeconds(3).AddMilliseconds(200), items[1].GetProperty("receivedAt").GetDateTimeOffset());

        Assert.Equal(history.ToString(), (await GetJsonAsync(client, Path(session) + "/history")).ToString());
    }

    [Fact]
    public async Task Active_lists_the_live_calls_with_their_count_and_not_the_ended_ones()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        using var client = host.CreateClient();
        var tag = Tag();
        var t = Now();
        var ringing = $"v3:{tag}-ringing";
        var answered = $"v3:{tag}-answered";
        var ended = $"v3:{tag}-ended";
        await host.ProcessAllAsync(
        [
            .. Through(ringing, t, CallStatus.Initiated, CallStatus.Ringing),
            .. Through(answered, t.AddSeconds(1), CallStatus.Initiated, CallStatus.Answered),
            .. Through(ended, t.AddSeconds(2), CallStatus.Initiated, CallStatus.Answered, CallStatus.Completed),
        ]);

        var active = await GetJsonAsync(client, "/api/calls/active");
        Assert.Equal(["count", "items"], active.EnumerateObject().Select(p => p.Name));
        var items = active.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(active.GetProperty("count").GetInt32(), items.Count);
        var ours = items.Select(i => i.GetProperty("providerCallId").GetString()).Where(id => id!.Contains(tag, StringComparison.Ordinal)).ToList();
        Assert.Equal([answered, ringing], ours);
        Assert.All(items, i => Assert.DoesNotContain(i.GetProperty("status").GetString(), new[] { "Completed", "Failed" }));
        Assert.Equal("Ringing", items.Single(i => i.GetProperty("providerCallId").GetString() == ringing).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_OpenAPI_document_is_published_anonymously_and_describes_the_calls_api()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        using var anonymous = host.CreateClient(apiKey: null);

        var document = await GetJsonAsync(anonymous, "/openapi/v1.json");

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/calls", "/api/calls/active", "/api/calls/{id}", "/api/calls/{id}/history" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the document");
        }

        var list = paths.GetProperty("/api/calls").GetProperty("get");
        Assert.Equal(["cursor", "direction", "from", "limit", "provider", "since", "status", "to", "until"],
            list.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.True(list.GetProperty("responses").TryGetProperty("400", out _));
        var one = paths.GetProperty("/api/calls/{id}").GetProperty("get").GetProperty("responses");
        Assert.True(one.TryGetProperty("200", out _));
        Assert.True(one.TryGetProperty("404", out _));
        Assert.True(one.TryGetProperty("401", out _));
    }

    private static List<T> Shuffled<T>(IEnumerable<T> items) => [.. items.OrderBy(_ => Random.Shared.Next())];
}
