using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Tests.Apis;

/// <summary>Calls made of plain events, for the API, fast-tier, metrics and stuck-call tests.</summary>
internal static class TestCalls
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    public static string Tag() => Guid.NewGuid().ToString("N")[..10];

    /// <summary>A number no other test uses, so that <c>from=</c> isolates a test's calls in the shared database.</summary>
    public static string UniqueNumber() => "+4207" + Random.Shared.NextInt64(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Now, to the millisecond.</summary>
    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>An event of <paramref name="callId"/> that happened at <paramref name="at"/> and was received 200 ms later.</summary>
    public static CallEventReceived Event(
        string callId,
        CallStatus? status,
        DateTimeOffset at,
        TelephonyProvider provider = TelephonyProvider.Telnyx,
        CallDirection direction = CallDirection.Outbound,
        string? from = "+420600000001",
        string? to = "+420600000002",
        string? sessionId = null,
        CallEndReason endReason = CallEndReason.None,
        string? answeredBy = null,
        string? hangupCause = null,
        string? eventType = null,
        DateTimeOffset? receivedAt = null) => new(
        EventId: Guid.NewGuid(),
        OccurredAt: at,
        CorrelationId: callId,
        Provider: provider,
        ProviderCallId: callId,
        SessionId: sessionId,
        EventType: eventType ?? (status is { } s ? "call." + s.ToString().ToLowerInvariant() : "call.dtmf.received"),
        ProviderStatus: null,
        Status: status,
        EndReason: endReason == CallEndReason.None && status is CallStatus.Completed or CallStatus.Failed ? CallEndReason.Normal : endReason,
        From: from,
        To: to,
        Direction: direction,
        Sequence: null,
        AnsweredBy: answeredBy,
        HangupCause: hangupCause,
        ReceivedAt: receivedAt ?? at.AddMilliseconds(200),
        RawFields: NoFields);

    /// <summary>A call's events, one second apart from <paramref name="start"/>, through the given states.</summary>
    public static List<CallEventReceived> Through(string callId, DateTimeOffset start, params CallStatus[] states) =>
        [.. states.Select((s, i) => Event(callId, s, start.AddSeconds(i)))];

    public static async Task Eventually(Func<Task<bool>> condition, int seconds = 30, string? because = null)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(seconds), because ?? $"not true within {seconds} s");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until reads are answered from Redis (the fast tier was rebuilt since the host started).</summary>
    public static Task WaitUntilServingAsync(CallStateHost host, int seconds = 30) =>
        Eventually(() => Task.FromResult(host.Services.GetRequiredService<CallCache>().IsServing), seconds, "the fast tier did not start serving");

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<T> GetAsync<T>(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<T>(body, CallView.JsonOptions)!;
    }

    public static string Path(string id) => "/api/calls/" + Uri.EscapeDataString(id);
}
