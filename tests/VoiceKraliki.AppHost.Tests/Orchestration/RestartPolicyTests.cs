using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Tests.Orchestration;

public sealed class RestartPolicyTests
{
    [Fact]
    public void Backoff_doubles_from_one_second_up_to_fifteen()
    {
        var policy = new RestartPolicy();

        var delays = Enumerable.Range(0, 7).Select(_ => policy.NextDelay(TimeSpan.Zero).TotalSeconds).ToArray();

        Assert.Equal([1, 2, 4, 8, 15, 15, 15], delays);
    }

    [Fact]
    public void A_minute_of_health_forgives_earlier_crashes()
    {
        var policy = new RestartPolicy();
        policy.NextDelay(TimeSpan.Zero);
        policy.NextDelay(TimeSpan.Zero);
        policy.NextDelay(TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(8), policy.NextDelay(TimeSpan.FromSeconds(59)));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.NextDelay(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void The_worst_replica_state_is_the_resource_state()
    {
        Assert.Equal(ResourceState.Healthy, ResourceSnapshot.Aggregate([ResourceState.Healthy, ResourceState.Healthy]));
        Assert.Equal(ResourceState.Restarting, ResourceSnapshot.Aggregate([ResourceState.Healthy, ResourceState.Restarting]));
        Assert.Equal(ResourceState.Running, ResourceSnapshot.Aggregate([ResourceState.Healthy, ResourceState.Running]));
        Assert.Equal(ResourceState.Failed, ResourceSnapshot.Aggregate([ResourceState.Failed, ResourceState.Healthy]));
    }
}
