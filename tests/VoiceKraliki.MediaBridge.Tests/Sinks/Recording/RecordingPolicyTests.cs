using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Recording;
using static VoiceKraliki.MediaBridge.Tests.Sinks.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Recording;

public sealed class RecordingPolicyTests
{
    private static readonly Dictionary<string, string> RecordRequested = new() { ["record"] = "true" };

    [Fact]
    public async Task Nothing_is_recorded_by_default()
    {
        var options = new RecordingOptions();
        using var recorder = new RecorderHarness(options.Policy);

        Assert.Equal(RecordingPolicyMode.Deny, options.Policy);
        Assert.Null(await recorder.StartAsync(Info(parameters: RecordRequested)));
        Assert.False(Directory.Exists(recorder.Folder.Recordings));
    }

    [Fact]
    public async Task Allow_records_every_stream()
    {
        using var recorder = new RecorderHarness(RecordingPolicyMode.Allow);

        var sink = await recorder.StartAsync(Info());

        Assert.NotNull(sink);
        await sink.DisposeAsync();
        Assert.Equal(2, recorder.Folder.Files().Length);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    [InlineData("1", false)]
    [InlineData(null, false)]
    public async Task Allow_when_requested_records_only_streams_that_ask(string? record, bool recorded)
    {
        using var recorder = new RecorderHarness(RecordingPolicyMode.AllowWhenRequested);
        var parameters = record is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["record"] = record };

        var decision = await recorder.Policy.DecideAsync(Info(parameters: parameters), CancellationToken.None);
        var sink = await recorder.StartAsync(Info(parameters: parameters));

        Assert.Equal(recorded, decision.Allowed);
        Assert.Equal(recorded ? "stream-requested" : "not-requested", decision.Basis);
        Assert.Equal(recorded, sink is not null);
        if (sink is not null)
        {
            await sink.DisposeAsync();
        }
    }

    [Fact]
    public async Task Allow_when_requested_records_call_ids_on_the_allow_list()
    {
        using var recorder = new RecorderHarness(RecordingPolicyMode.AllowWhenRequested, allowedPrefixes: ["CAtest"]);

        var listed = await recorder.Policy.DecideAsync(Info(callId: "CAtest0001"), CancellationToken.None);
        var other = await recorder.Policy.DecideAsync(Info(callId: "CAprod0001"), CancellationToken.None);

        Assert.Equal(new RecordingDecision(true, "call-id-allow-list", listed.Reason), listed);
        Assert.False(other.Allowed);
    }

    [Fact]
    public async Task Deny_wins_over_a_stream_that_asks_and_over_the_allow_list()
    {
        using var recorder = new RecorderHarness(RecordingPolicyMode.Deny, allowedPrefixes: ["CA"]);

        var decision = await recorder.Policy.DecideAsync(Info(parameters: RecordRequested), CancellationToken.None);

        Assert.Equal("configured-deny", decision.Basis);
        Assert.False(decision.Allowed);
    }

    [Fact]
    public async Task A_policy_that_fails_means_no_recording()
    {
        using var recorder = new RecorderHarness(customPolicy: new FailingPolicy());

        Assert.Null(await recorder.StartAsync(Info()));
        Assert.Empty(recorder.Folder.Files());
    }

    [Fact]
    public async Task A_replacement_policy_decides_and_its_basis_is_kept_with_the_recording()
    {
        using var recorder = new RecorderHarness(RecordingPolicyMode.Deny, customPolicy: new ConsentPolicy());

        var recordingId = await recorder.RecordAsync(Info());

        Assert.Equal("all-party-consent", recorder.Sidecar(recordingId).PolicyBasis);
    }

    private sealed class FailingPolicy : IRecordingPolicy
    {
        public ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken) =>
            throw new HttpRequestException("compliance is down");
    }

    private sealed class ConsentPolicy : IRecordingPolicy
    {
        public ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken) =>
            ValueTask.FromResult(RecordingDecision.Allow("all-party-consent", "both parties consented"));
    }
}
