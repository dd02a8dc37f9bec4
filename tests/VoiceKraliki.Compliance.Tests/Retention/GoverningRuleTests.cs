using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Compliance.Retention;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Compliance.Tests.Retention;

/// <summary>Which party's policy governs a call's data: the one that acts first, deletion winning a tie.</summary>
public class GoverningRuleTests
{
    private static readonly RetentionOptions Defaults = new();

    [Theory]
    [InlineData(DataCategories.Recording, Region.EU, Region.US, Region.EU, "delete", 30)]
    [InlineData(DataCategories.Recording, Region.US, Region.EU, Region.EU, "delete", 30)]
    [InlineData(DataCategories.Recording, Region.US, Region.US, Region.US, "delete", 365)]
    [InlineData(DataCategories.Recording, Region.UK, Region.US, Region.UK, "delete", 60)]
    [InlineData(DataCategories.Recording, Region.CA, Region.AU, Region.AU, "delete", 90)]
    [InlineData(DataCategories.Transcript, Region.EU, Region.US, Region.EU, "delete", 90)]
    [InlineData(DataCategories.CallMetadata, Region.EU, Region.US, Region.EU, "anonymize", 365)]
    [InlineData(DataCategories.CallMetadata, Region.US, Region.UK, Region.UK, "anonymize", 60)]
    [InlineData(DataCategories.CallMetadata, Region.US, Region.CA, Region.US, "delete", 2555)]
    [InlineData(DataCategories.CallMetadata, Region.US, Region.OTHER, Region.OTHER, "anonymize", 365)]
    public void The_party_whose_policy_acts_first_governs(string category, Region from, Region to, Region governing, string action, int days)
    {
        var (region, rule) = Defaults.Governing(category, from, to);

        Assert.Equal((governing, action, days), (region, rule.Action, rule.AfterDays));
    }

    [Fact]
    public void On_a_tie_deleting_wins_over_anonymizing_whichever_party_it_is()
    {
        var options = new RetentionOptions
        {
            Regions =
            {
                ["EU"] = Policy(RetentionRule.Anonymize),
                ["US"] = Policy(RetentionRule.Delete),
            },
        };

        Assert.Equal((Region.US, RetentionRule.Delete), Pick(options.Governing(DataCategories.CallMetadata, Region.EU, Region.US)));
        Assert.Equal((Region.US, RetentionRule.Delete), Pick(options.Governing(DataCategories.CallMetadata, Region.US, Region.EU)));
    }

    [Fact]
    public void An_unknown_category_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Defaults.Governing("voicemail", Region.EU, Region.EU));
    }

    private static (Region, string) Pick((Region Region, RetentionRule Rule) governing) => (governing.Region, governing.Rule.Action);

    private static RegionPolicy Policy(string metadataAction) => new()
    {
        Recordings = new RetentionRule { AfterDays = 30 },
        Transcripts = new RetentionRule { AfterDays = 30 },
        CallMetadata = new RetentionRule { Action = metadataAction, AfterDays = 100 },
        Basis = "test",
    };
}
