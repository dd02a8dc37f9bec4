using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Decisions;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Tests.Decisions;

/// <summary>The decision rules over the real region data: who needs consent, and what the answer is with or without it.</summary>
public sealed class DecisionRulesTests
{
    private static readonly RegionDirectory Regions = RegionDirectory.Shared;
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static PhoneNumber Number(string e164) =>
        PhoneNumber.TryParse(e164, out var number, out var error) ? number : throw new ArgumentException(error, nameof(e164));

    private static Decision Decide(string from, string to, bool fromConsented = false, bool toConsented = false)
    {
        var (fromNumber, toNumber) = (Number(from), Number(to));
        var (fromRegion, toRegion) = (Regions.Lookup(fromNumber), Regions.Lookup(toNumber));
        var (fromNeed, toNeed) = DecisionRules.Requirements(fromRegion, toRegion);
        return DecisionRules.Decide("recording", ConsentVocabulary.Recording,
            ("from", fromNumber, fromRegion, fromNeed, fromConsented ? new ActiveConsent(Guid.NewGuid(), null) : null),
            ("to", toNumber, toRegion, toNeed, toConsented ? new ActiveConsent(Guid.NewGuid(), null) : null),
            Now);
    }

    [Fact]
    public void Two_parties_in_one_party_states_may_be_recorded_without_consent_or_announcement()
    {
        // New York (212) and Texas (214).
        var decision = Decide("+12125550100", "+12145550100");

        Assert.True(decision.Allowed);
        Assert.False(decision.AnnouncementRequired);
        Assert.All(decision.Parties, p => Assert.Equal(DecisionRules.OnePartyConsent, p.Rule));
        Assert.Equal(["US-NY", "US-TX"], decision.States);
    }

    [Fact]
    public void A_party_in_an_all_party_state_makes_every_party_need_consent()
    {
        // New York calling California (415): both must consent.
        var denied = Decide("+12125550100", "+14155550100", fromConsented: true);
        Assert.False(denied.Allowed);
        Assert.All(denied.Parties, p => Assert.True(p.ConsentRequired));
        Assert.Contains("to", denied.Basis);
        Assert.True(denied.AnnouncementRequired);

        var allowed = Decide("+12125550100", "+14155550100", fromConsented: true, toConsented: true);
        Assert.True(allowed.Allowed);
        Assert.All(allowed.Parties, p => Assert.NotNull(p.ConsentEventId));
    }

    [Theory]
    [InlineData("+493012345678")] // Germany
    [InlineData("+447700900123")] // UK
    [InlineData("+33612345678")] // France
    public void A_party_in_a_gdpr_region_needs_its_own_explicit_consent(string european)
    {
        var denied = Decide("+12125550100", european);
        Assert.False(denied.Allowed);
        Assert.Equal(DecisionRules.ExplicitConsent, denied.Parties[1].Rule);
        Assert.False(denied.Parties[0].ConsentRequired);

        Assert.True(Decide("+12125550100", european, toConsented: true).Allowed);
    }

    [Fact]
    public void A_number_whose_region_is_unknown_gets_the_strictest_rule()
    {
        var decision = Decide("+12125550100", "+19995550100");

        Assert.False(decision.Allowed);
        Assert.False(decision.Parties[1].RegionKnown);
        Assert.Equal(DecisionRules.ExplicitConsent, decision.Parties[1].Rule);
        // Unknown counts as all-party, so the New York party needs consent too.
        Assert.True(decision.Parties[0].ConsentRequired);
    }

    [Fact]
    public void Canada_and_australia_need_notice_not_consent()
    {
        var decision = Decide("+14165550100", "+61291234567");

        Assert.True(decision.Allowed);
        Assert.True(decision.AnnouncementRequired);
        Assert.All(decision.Parties, p => Assert.Equal(DecisionRules.Notice, p.Rule));
    }

    [Fact]
    public void Consent_on_file_for_a_party_that_needs_none_is_not_relied_on()
    {
        var decision = Decide("+12125550100", "+12145550100", fromConsented: true);

        Assert.All(decision.Parties, p => Assert.Null(p.ConsentEventId));
    }
}
