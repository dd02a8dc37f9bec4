using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;

namespace VoiceKraliki.Alerting.Tests.Notifications;

/// <summary>Alertmanager's routing tree and inhibition, over our label sets.</summary>
public class RouterTests
{
    private static Router RouterOf(RouteOptions root, bool defaultInhibitions = true, params InhibitionOptions[] inhibitions) =>
        new(Options.Create(new NotificationOptions { Route = root, UseDefaultInhibitions = defaultInhibitions, Inhibitions = [.. inhibitions] }));

    private static readonly RouteOptions Tree = new()
    {
        Routes =
        [
            new() { Name = "pager", Channels = ["pagerduty"], Matchers = ["severity=~\"critical|high\""], GroupWait = TimeSpan.FromSeconds(5), Continue = true },
            new()
            {
                Name = "twilio", Channels = ["slack-twilio"], Matchers = ["provider=\"twilio\""], GroupBy = ["alertname"],
                Routes = [new() { Name = "twilio-webhooks", Matchers = ["alertname=\"webhook_failures_high\""], RepeatInterval = TimeSpan.FromMinutes(30) }],
            },
            new() { Name = "never", Channels = ["x"], Matchers = ["provider=\"twilio\""] },
        ],
    };

    [Fact]
    public void An_alert_no_child_takes_goes_to_the_root_with_its_defaults()
    {
        var route = Assert.Single(RouterOf(Tree).Match(LabelSet.Of(("alertname", "a"), ("severity", "low"), ("provider", "telnyx"))));

        Assert.Equal(("default", "0"), (route.Name, route.Path));
        Assert.Equal(["*"], route.Channels);
        Assert.Equal(["alertname", "provider"], route.GroupBy);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromHours(4)), (route.GroupWait, route.GroupInterval, route.RepeatInterval));
    }

    [Fact]
    public void The_first_matching_child_takes_the_alert_unless_it_continues_and_the_deepest_match_wins()
    {
        var routes = RouterOf(Tree).Match(LabelSet.Of(("alertname", "webhook_failures_high"), ("severity", "critical"), ("provider", "twilio")));

        Assert.Equal(["pager", "twilio-webhooks"], routes.Select(r => r.Name));
        var deepest = routes[1];
        Assert.Equal(["slack-twilio"], deepest.Channels); // inherited from its parent
        Assert.Equal(["alertname"], deepest.GroupBy);
        Assert.Equal(TimeSpan.FromMinutes(30), deepest.RepeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), deepest.GroupWait);
    }

    [Fact]
    public void A_child_without_a_matching_grandchild_takes_the_alert_itself_and_later_siblings_do_not()
    {
        var routes = RouterOf(Tree).Match(LabelSet.Of(("alertname", "call_drop_rate_high"), ("severity", "medium"), ("provider", "twilio")));

        Assert.Equal(["twilio"], routes.Select(r => r.Name));
    }

    [Fact]
    public void Group_labels_and_keys_follow_group_by_and_are_stable()
    {
        var route = Assert.Single(RouterOf(Tree).Match(LabelSet.Of(("alertname", "a"), ("provider", "telnyx"), ("severity", "low"))));
        var labels = route.GroupLabels(LabelSet.Of(("severity", "low"), ("provider", "telnyx"), ("alertname", "a"), ("extra", "x")));

        Assert.Equal(LabelSet.Of(("alertname", "a"), ("provider", "telnyx")), labels);
        Assert.Equal("0:{alertname=\"a\", provider=\"telnyx\"}", route.GroupKey(labels));
        var everything = new ResolvedRoute("r", "0", ["*"], [], [ResolvedRoute.AllLabels], TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, false, []);
        Assert.Equal(4, everything.GroupLabels(LabelSet.Of(("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"))).Count);
    }

    [Fact]
    public void A_provider_down_alert_mutes_that_providers_call_alerts_only()
    {
        var router = RouterOf(new RouteOptions());
        var down = LabelSet.Of(("alertname", "provider_unhealthy"), ("provider", "twilio"), ("severity", "critical"));
        var twilioDrops = LabelSet.Of(("alertname", "call_drop_rate_high"), ("provider", "twilio"), ("severity", "high"));
        var telnyxDrops = LabelSet.Of(("alertname", "call_drop_rate_high"), ("provider", "telnyx"), ("severity", "high"));
        var compliance = LabelSet.Of(("alertname", "compliance_violation"), ("severity", "critical"));

        Assert.True(router.IsInhibited(twilioDrops, [down, twilioDrops]));
        Assert.False(router.IsInhibited(telnyxDrops, [down, telnyxDrops]));
        Assert.False(router.IsInhibited(compliance, [down]));
        Assert.False(router.IsInhibited(down, [down]));
        Assert.False(router.IsInhibited(twilioDrops, [twilioDrops]));
    }

    [Fact]
    public void Configured_inhibitions_add_to_the_defaults_and_the_defaults_can_be_turned_off()
    {
        var extra = new InhibitionOptions { SourceMatchers = ["alertname=\"maintenance\""], TargetMatchers = ["severity=~\".+\""] };
        var maintenance = LabelSet.Of(("alertname", "maintenance"), ("severity", "low"));
        var down = LabelSet.Of(("alertname", "provider_unhealthy"), ("provider", "twilio"), ("severity", "critical"));
        var drops = LabelSet.Of(("alertname", "call_drop_rate_high"), ("provider", "twilio"), ("severity", "high"));

        var both = RouterOf(new RouteOptions(), true, extra);
        Assert.True(both.IsInhibited(drops, [down]));
        Assert.True(both.IsInhibited(drops, [maintenance]));

        var onlyConfigured = RouterOf(new RouteOptions(), false, extra);
        Assert.False(onlyConfigured.IsInhibited(drops, [down]));
        Assert.True(onlyConfigured.IsInhibited(drops, [maintenance]));
    }
}
