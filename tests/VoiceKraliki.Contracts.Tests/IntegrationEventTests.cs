using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Contracts.Tests;

public class IntegrationEventTests
{
    private static readonly Type[] EventTypes = typeof(IIntegrationEvent).Assembly.GetTypes()
        .Where(t => typeof(IIntegrationEvent).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
        .OrderBy(t => t.Name)
        .ToArray();

    public static TheoryData<string> RequiredEvents => new()
    {
        "CallEventReceived", "CallStateChanged", "WebhookRejected", "MediaStreamStarted", "MediaStreamEnded",
        "MediaQualityReported", "ConsentChanged", "RetentionExpired", "DataErasureRequested", "DataErasureCompleted",
        "DataExportRequested", "DataExportCompleted", "AlertFired", "AlertResolved", "ProviderHealthChanged", "RetentionEnforced",
    };

    [Theory]
    [MemberData(nameof(RequiredEvents))]
    public void Every_event_the_architecture_names_exists_as_an_integration_event(string name)
    {
        Assert.Contains(EventTypes, t => t.Name == name);
    }

    [Fact]
    public void Every_event_is_a_sealed_record()
    {
        foreach (var type in EventTypes)
        {
            Assert.True(type.IsSealed, $"{type.Name} must be sealed");
            // Records have a compiler-generated EqualityContract property.
            Assert.NotNull(type.GetProperty("EqualityContract", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance));
        }
    }

    [Fact]
    public void Every_event_name_is_in_the_past_tense()
    {
        var pastTense = new[] { "ed", "Fired", "Received", "Rejected", "Started", "Ended", "Reported" };
        foreach (var type in EventTypes)
        {
            Assert.True(pastTense.Any(type.Name.EndsWith), $"{type.Name} should be named in the past tense");
        }
    }

    [Fact]
    public void A_call_event_survives_a_json_round_trip_with_readable_enums()
    {
        var original = new CallEventReceived(
            Guid.NewGuid(), DateTimeOffset.Parse("2026-11-23T10:00:00Z"), "CA123", TelephonyProvider.Twilio, "CA123", null,
            "status", "in-progress", CallStatus.Answered, CallEndReason.None, "+14155550100", "+14155550199",
            CallDirection.Inbound, 3, null, null, DateTimeOffset.Parse("2026-11-23T10:00:01Z"),
            new Dictionary<string, string> { ["CallStatus"] = "in-progress" });

        var json = JsonSerializer.Serialize(original, JsonSerializerOptions.Web);
        Assert.Contains("\"status\":\"Answered\"", json);
        Assert.Contains("\"provider\":\"Twilio\"", json);

        var copy = JsonSerializer.Deserialize<CallEventReceived>(json, JsonSerializerOptions.Web)!;
        Assert.Equal(original.EventId, copy.EventId);
        Assert.Equal(original.Status, copy.Status);
        Assert.Equal(original.OccurredAt, copy.OccurredAt);
        Assert.Equal("in-progress", copy.RawFields["CallStatus"]);
    }

    [Fact]
    public void The_seven_call_states_are_exactly_those_of_the_architecture()
    {
        Assert.Equal(
            ["Initiated", "Ringing", "Answered", "OnHold", "Transferring", "Completed", "Failed"],
            Enum.GetNames<CallStatus>());
    }
}
