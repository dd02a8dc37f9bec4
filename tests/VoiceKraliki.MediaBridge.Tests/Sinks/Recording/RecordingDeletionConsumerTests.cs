using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Recording;
using static VoiceKraliki.MediaBridge.Tests.Sinks.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Recording;

/// <summary>The deletion consumers on MassTransit's in-memory test harness, found the way the service finds them.</summary>
public sealed class RecordingDeletionConsumerTests : IAsyncLifetime
{
    private const string CallA = "CA0000000000000000000000000000000a";
    private const string CallB = "CA0000000000000000000000000000000b";

    private readonly RecorderHarness _recorder = new();
    private ServiceProvider _services = null!;
    private ITestHarness _bus = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(_recorder.Store)
            .AddSingleton<TimeProvider>(_recorder.Time)
            .AddMassTransitTestHarness(bus => bus.AddConsumers(
                type => type.Namespace == typeof(RecordingStore).Namespace, typeof(RecordingStore).Assembly))
            .BuildServiceProvider(validateScopes: true);
        _bus = _services.GetRequiredService<ITestHarness>();
        await _bus.Start();
    }

    public async Task DisposeAsync()
    {
        await _bus.Stop();
        await _services.DisposeAsync();
        _recorder.Dispose();
    }

    [Fact]
    public async Task Retention_of_a_call_deletes_each_of_its_recordings_and_nothing_else_and_a_redelivery_changes_nothing()
    {
        var a1 = await _recorder.RecordAsync(Info(callId: CallA, streamId: "MZ1"));
        var a2 = await _recorder.RecordAsync(Info(callId: CallA, streamId: "MZ2"));
        var b1 = await _recorder.RecordAsync(Info(callId: CallB, streamId: "MZ1"));
        var expired = Retention("recording", CallA);

        await PublishAndWaitAsync(expired);
        Assert.Equal(Files(b1), _recorder.Folder.Files());
        var answer = await EnforcedAsync(expired, affected: 2);
        Assert.Equal(RetentionEnforced.IdFor("media-bridge", expired.EventId), answer.EventId);
        Assert.Equal(("media-bridge", "recording", CallA, "delete"), (answer.Service, answer.DataCategory, answer.ResourceId, answer.Action));
        Assert.Equal(expired.CorrelationId, answer.CorrelationId);

        await PublishAndWaitAsync(expired, times: 2);
        Assert.Equal(Files(b1), _recorder.Folder.Files());
        Assert.DoesNotContain(a1 + ".wav", _recorder.Folder.Files());
        Assert.DoesNotContain(a2 + ".wav", _recorder.Folder.Files());
        Assert.Equal(answer.EventId, (await EnforcedAsync(expired, affected: 0)).EventId);
    }

    [Fact]
    public async Task Retention_asking_to_anonymize_audio_deletes_it_since_audio_cannot_be_anonymized()
    {
        await _recorder.RecordAsync(Info(callId: CallA));
        var expired = Retention("recording", CallA) with { Action = "anonymize" };

        await PublishAndWaitAsync(expired);

        Assert.Empty(_recorder.Folder.Files());
        Assert.Equal("delete", (await EnforcedAsync(expired, affected: 1)).Action);
    }

    [Fact]
    public async Task Retention_naming_no_resource_fails_to_the_error_queue_and_is_not_answered()
    {
        var a1 = await _recorder.RecordAsync(Info(callId: CallA));
        var expired = Retention("recording", " ");

        await _bus.Bus.Publish(expired);

        Assert.True(await _bus.Consumed.Any<RetentionExpired>(c => c.Context.Message.EventId == expired.EventId && c.Exception != null));
        Assert.False(await _bus.Published.Any<RetentionEnforced>(p => p.Context.Message.RetentionEventId == expired.EventId));
        Assert.Equal(Files(a1), _recorder.Folder.Files());
    }

    [Fact]
    public async Task Retention_of_one_recording_id_deletes_that_recording_only()
    {
        var a1 = await _recorder.RecordAsync(Info(callId: CallA, streamId: "MZ1"));
        var a2 = await _recorder.RecordAsync(Info(callId: CallA, streamId: "MZ2"));

        await PublishAndWaitAsync(Retention("Recording", a1));

        Assert.Equal(Files(a2), _recorder.Folder.Files());
    }

    [Theory]
    [InlineData("call-record")]
    [InlineData("transcript")]
    public async Task Retention_of_other_data_deletes_no_recording(string category)
    {
        var a1 = await _recorder.RecordAsync(Info(callId: CallA));

        var expired = Retention(category, CallA);
        await PublishAndWaitAsync(expired);

        Assert.Equal(Files(a1), _recorder.Folder.Files());
        Assert.False(await _bus.Published.Any<RetentionEnforced>(p => p.Context.Message.RetentionEventId == expired.EventId));
    }

    [Fact]
    public async Task Erasure_deletes_every_recording_with_the_number_as_caller_or_callee_and_answers_for_media_bridge()
    {
        await _recorder.RecordAsync(Info(callId: "CA1", parameters: Numbers("+14155550100", "+442071838750")));
        await _recorder.RecordAsync(Info(callId: "CA2", parameters: Numbers("+33123456789", "+1 (415) 555-0100")));
        var kept = await _recorder.RecordAsync(Info(callId: "CA3", parameters: Numbers("+33123456789", "+442071838750")));
        var anonymous = await _recorder.RecordAsync(Info(callId: "CA4"));
        var request = Erasure("+14155550100");

        await PublishAndWaitAsync(request);

        Assert.Equal([.. Files(kept), .. Files(anonymous)], _recorder.Folder.Files());
        var answer = await AnswerToAsync(request, erased: 2);
        Assert.Equal(request.RequestId, answer.RequestId);
        Assert.Equal(request.CorrelationId, answer.CorrelationId);
        Assert.Equal("media-bridge", answer.Service);
        Assert.Equal(["recording"], answer.Categories);
        Assert.Equal(_recorder.Time.GetUtcNow(), answer.OccurredAt);

        await PublishAndWaitAsync(request, times: 2);
        var again = await AnswerToAsync(request, erased: 0);
        Assert.Equal(answer.EventId, again.EventId);
        Assert.Equal(4, _recorder.Folder.Files().Length);
    }

    [Fact]
    public async Task Erasure_reaches_a_recording_that_is_still_being_made()
    {
        var sink = (await _recorder.StartAsync(Info(callId: "CA1", parameters: Numbers("+14155550100", "+442071838750"))))!;
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), CancellationToken.None);
        var request = Erasure("+442071838750");

        await PublishAndWaitAsync(request);
        await AnswerToAsync(request, erased: 1);
        Assert.Empty(_recorder.Folder.Files());

        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(2), Ms(20), CancellationToken.None);
        await sink.OnStopAsync("stop", CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Empty(_recorder.Folder.Files());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("+")]
    public async Task An_erasure_request_without_a_number_erases_nothing_but_is_answered(string number)
    {
        var recorded = await _recorder.RecordAsync(Info(callId: "CA1", parameters: Numbers("+14155550100", "+442071838750")));
        var request = Erasure(number);

        await PublishAndWaitAsync(request);

        await AnswerToAsync(request, erased: 0);
        Assert.Equal(Files(recorded), _recorder.Folder.Files());
    }

    private static string[] Files(string recordingId) => [recordingId + ".json", recordingId + ".wav"];

    private static Dictionary<string, string> Numbers(string from, string to) => new() { ["from"] = from, ["to"] = to };

    private static RetentionExpired Retention(string category, string resourceId) =>
        new(Guid.NewGuid(), DateTimeOffset.UtcNow, resourceId, category, "EU", resourceId, DateTimeOffset.UtcNow.AddDays(-1), "delete", Guid.NewGuid());

    private async Task<RetentionEnforced> EnforcedAsync(RetentionExpired expired, int affected)
    {
        Assert.True(await _bus.Published.Any<RetentionEnforced>(p => p.Context.Message.RetentionEventId == expired.EventId && p.Context.Message.ItemsAffected == affected));
        return _bus.Published.Select<RetentionEnforced>(p => p.Context.Message.RetentionEventId == expired.EventId && p.Context.Message.ItemsAffected == affected)
            .First().Context.Message;
    }

    private static DataErasureRequested Erasure(string phoneNumber) =>
        new(Guid.NewGuid(), DateTimeOffset.UtcNow, "dsr-" + Guid.NewGuid().ToString("N")[..8], Guid.NewGuid(), phoneNumber, DateTimeOffset.UtcNow.AddDays(30));

    /// <summary>Publishes and waits until the consumer has taken this message <paramref name="times"/> times, without failing.</summary>
    private async Task PublishAndWaitAsync<T>(T message, int times = 1)
        where T : class, IIntegrationEvent
    {
        await _bus.Bus.Publish(message);
        await Eventually(() => _bus.Consumed.Select<T>(c => c.Context.Message.EventId == message.EventId).Count() >= times, $"{typeof(T).Name} consumed {times}×");
        Assert.All(_bus.Consumed.Select<T>(c => c.Context.Message.EventId == message.EventId), c => Assert.Null(c.Exception));
    }

    private async Task<DataErasureCompleted> AnswerToAsync(DataErasureRequested request, int erased)
    {
        Assert.True(await _bus.Published.Any<DataErasureCompleted>(p => p.Context.Message.RequestId == request.RequestId && p.Context.Message.ItemsErased == erased));
        return _bus.Published.Select<DataErasureCompleted>(p => p.Context.Message.RequestId == request.RequestId && p.Context.Message.ItemsErased == erased)
            .First().Context.Message;
    }
}
