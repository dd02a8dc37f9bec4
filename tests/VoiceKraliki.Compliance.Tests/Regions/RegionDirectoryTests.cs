using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Tests.Regions;

public class RegionDirectoryTests
{
    private static readonly RegionDirectory Directory = RegionDirectory.Shared;

    private static RegionLookup Lookup(string e164) => Directory.Lookup(PhoneNumber.Parse(e164));

    private static void AssertStrictest(RegionLookup lookup)
    {
        Assert.False(lookup.Known);
        Assert.Equal(Region.OTHER, lookup.Region);
        Assert.Null(lookup.Country);
        Assert.Null(lookup.Subdivision);
        Assert.True(lookup.AllPartyConsent);
        Assert.True(lookup.ExplicitConsentRegion);
        Assert.Contains("strictest policy", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+12125550123", "NY")]
    [InlineData("+12145550123", "TX")]
    [InlineData("+12025550123", "DC")]
    [InlineData("+14045550123", "GA")]
    public void A_us_number_in_a_one_party_state_needs_one_party_consent(string e164, string state)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.US, "US", state, true, false, false, lookup.Basis), lookup);
        Assert.Contains($"NANP area code {e164[2..5]} → US-{state}", lookup.Basis, StringComparison.Ordinal);
        Assert.Contains("one-party-consent state", lookup.Basis, StringComparison.Ordinal);
        Assert.Contains("rate area, not where the caller is", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+14155550123", "CA")]
    [InlineData("+13055550123", "FL")]
    [InlineData("+13125550123", "IL")]
    [InlineData("+12065550123", "WA")]
    [InlineData("+12155550123", "PA")]
    [InlineData("+16175550123", "MA")]
    [InlineData("+13025550123", "DE")]
    [InlineData("+14105550123", "MD")]
    [InlineData("+14065550123", "MT")]
    [InlineData("+17025550123", "NV")]
    [InlineData("+16035550123", "NH")]
    [InlineData("+12035550123", "CT")]
    [InlineData("+13135550123", "MI")]
    [InlineData("+15035550123", "OR")]
    public void A_us_number_in_an_all_party_state_needs_all_party_consent(string e164, string state)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.US, "US", state, true, true, false, lookup.Basis), lookup);
        Assert.Contains("all-party-consent state", lookup.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void The_basis_names_the_area_code_the_state_and_the_rate_area_caveat()
    {
        Assert.Equal(
            "NANP area code 415 → US-CA (California), an all-party-consent state; an area code is the number's rate area, not where the caller is",
            Lookup("+14155550123").Basis);
    }

    [Fact]
    public void A_us_territory_is_region_us_with_its_territory_code()
    {
        var lookup = Lookup("+17875550123");

        Assert.Equal(new RegionLookup("+17875550123", Region.US, "PR", "PR", true, true, false, lookup.Basis), lookup);
        Assert.Contains("US territory", lookup.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void A_us_only_non_geographic_code_is_region_us_with_all_party_consent_as_the_state_is_unknown()
    {
        var lookup = Lookup("+17105550123");

        Assert.Equal(new RegionLookup("+17105550123", Region.US, "US", null, true, true, false, lookup.Basis), lookup);
        Assert.Contains("state unknown", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+14165550123", "ON")]
    [InlineData("+15145550123", "QC")]
    [InlineData("+16045550123", "BC")]
    [InlineData("+19025550123", "NS;PE")]
    [InlineData("+18675550123", "YT;NT;NU")]
    public void A_canadian_number_is_region_ca_with_its_province(string e164, string province)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.CA, "CA", province, true, false, false, lookup.Basis), lookup);
        Assert.Contains($"NANP area code {e164[2..5]} → CA-", lookup.Basis, StringComparison.Ordinal);
        Assert.Contains("own recording-consent rules are not modelled here", lookup.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void A_canadian_non_geographic_code_is_region_ca_without_a_province()
    {
        var lookup = Lookup("+16005550123");

        Assert.Equal(new RegionLookup("+16005550123", Region.CA, "CA", null, true, false, false, lookup.Basis), lookup);
    }

    [Theory]
    [InlineData("+18765550123", "JM")]
    [InlineData("+16585550123", "JM")]
    [InlineData("+18095550123", "DO")]
    [InlineData("+12425550123", "BS")]
    [InlineData("+14415550123", "BM")]
    public void A_caribbean_nanp_number_is_region_other_with_its_country(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.OTHER, country, null, true, false, false, lookup.Basis), lookup);
        Assert.Contains("Caribbean NANP member", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+18005550123")]
    [InlineData("+18885550123")]
    [InlineData("+18335550123")]
    [InlineData("+15005550123")]
    [InlineData("+19005550123")]
    public void A_shared_nanp_non_geographic_code_is_unknown_because_the_subscriber_could_be_in_any_nanp_country(string e164)
    {
        var lookup = Lookup(e164);

        AssertStrictest(lookup);
        Assert.Contains("non-geographic", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+442079460000", "GB")]
    [InlineData("+447911123456", "GB")]
    [InlineData("+441481123456", "GG")]
    [InlineData("+441534123456", "JE")]
    [InlineData("+441624123456", "IM")]
    public void A_plus_44_number_is_region_uk_and_needs_explicit_consent(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.UK, country, null, true, false, true, lookup.Basis), lookup);
        Assert.Contains("consent must be explicit", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+4930123456789", "DE")]
    [InlineData("+33123456789", "FR")]
    [InlineData("+35312345678", "IE")]
    [InlineData("+48221234567", "PL")]
    [InlineData("+35621234567", "MT")]
    [InlineData("+35722123456", "CY")]
    [InlineData("+390612345678", "IT")]
    [InlineData("+34912345678", "ES")]
    [InlineData("+3618123456", "HU")]
    [InlineData("+385112345678", "HR")]
    [InlineData("+262262123456", "RE")]
    [InlineData("+262269123456", "YT")]
    [InlineData("+3581812345", "AX")]
    public void An_eu_number_is_region_eu_and_needs_explicit_consent(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.EU, country, null, true, false, true, lookup.Basis), lookup);
        Assert.Contains("region EU", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+4721234567", "NO")]
    [InlineData("+3545123456", "IS")]
    [InlineData("+4232345678", "LI")]
    public void An_eea_number_outside_the_eu_is_region_other_but_needs_explicit_consent_as_the_gdpr_applies(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.OTHER, country, null, true, false, true, lookup.Basis), lookup);
        Assert.Contains("EEA", lookup.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vatican_number_under_plus_39_is_not_eu()
    {
        var lookup = Lookup("+390669812345");

        Assert.Equal(new RegionLookup("+390669812345", Region.OTHER, "VA", null, true, false, false, lookup.Basis), lookup);
    }

    [Theory]
    [InlineData("+61212345678", "AU")]
    [InlineData("+61412345678", "AU")]
    [InlineData("+61891621234", "CC")]
    [InlineData("+67232123456", "NF")]
    public void An_australian_number_is_region_au_without_explicit_or_all_party_consent(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.AU, country, null, true, false, false, lookup.Basis), lookup);
        Assert.Contains("own recording-consent rules are not modelled here", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+81312345678", "JP")]
    [InlineData("+6561234567", "SG")]
    [InlineData("+911123456789", "IN")]
    [InlineData("+8613812345678", "CN")]
    [InlineData("+85221234567", "HK")]
    [InlineData("+6421234567", "NZ")]
    [InlineData("+8801712345678", "BD")]
    public void An_asia_pacific_number_is_region_apac(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.APAC, country, null, true, false, false, lookup.Basis), lookup);
    }

    [Theory]
    [InlineData("+5511912345678", "BR")]
    [InlineData("+74951234567", "RU")]
    [InlineData("+77012345678", "KZ")]
    [InlineData("+41441234567", "CH")]
    [InlineData("+971501234567", "AE")]
    [InlineData("+27211234567", "ZA")]
    [InlineData("+525512345678", "MX")]
    public void A_number_elsewhere_is_region_other_and_known(string e164, string country)
    {
        var lookup = Lookup(e164);

        Assert.Equal(new RegionLookup(e164, Region.OTHER, country, null, true, false, false, lookup.Basis), lookup);
        Assert.Contains("region OTHER", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+10995550123")]
    [InlineData("+11995550123")]
    [InlineData("+19995550123")]
    [InlineData("+13705550123")]
    [InlineData("+19605550123")]
    public void An_unassigned_nanp_area_code_is_unknown_with_the_strictest_flags(string e164)
    {
        var lookup = Lookup(e164);

        AssertStrictest(lookup);
        Assert.Contains($"NANP area code {e164[2..5]} is not in the NANPA table", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+141555501")]
    [InlineData("+141555501234")]
    public void A_plus_1_number_without_ten_national_digits_is_unknown(string e164)
    {
        var lookup = Lookup(e164);

        AssertStrictest(lookup);
        Assert.Contains("has 10 digits after +1", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+80012345678")]
    [InlineData("+80812345678")]
    [InlineData("+881612345678")]
    [InlineData("+870772123456")]
    public void A_non_geographic_international_code_is_unknown_with_the_strictest_flags(string e164)
    {
        var lookup = Lookup(e164);

        AssertStrictest(lookup);
        Assert.Contains("non-geographic international service", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+2812345678")]
    [InlineData("+99912345678")]
    [InlineData("+21012345678")]
    public void An_unassigned_country_calling_code_is_unknown_with_the_strictest_flags(string text)
    {
        var lookup = Directory.Lookup(text);

        AssertStrictest(lookup);
        Assert.Equal(text, lookup.E164);
        Assert.Contains("country calling code is not assigned", lookup.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("anonymous")]
    [InlineData("+1 415 555 0123")]
    [InlineData("sip:alice@example.com")]
    public void Text_that_is_not_an_e164_number_is_unknown_with_the_strictest_flags(string? text)
    {
        var lookup = Directory.Lookup(text);

        AssertStrictest(lookup);
        Assert.StartsWith("Not a usable phone number (the phone number", lookup.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Looking_up_text_gives_the_same_answer_as_looking_up_the_parsed_number()
    {
        Assert.Equal(Lookup("+14155550123"), Directory.Lookup(" +14155550123 "));
    }

    [Fact]
    public void A_lookup_prints_the_number_masked()
    {
        var printed = Lookup("+14155550123").ToString();

        Assert.Contains("E164 = +*******0123", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("4155550123", printed, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shared_directory_is_one_instance_and_names_its_sources()
    {
        Assert.Same(RegionDirectory.Shared, RegionDirectory.Shared);
        Assert.Collection(
            Directory.Sources,
            source => Assert.StartsWith("country-codes.csv: Source: ITU-T E.164", source, StringComparison.Ordinal),
            source => Assert.StartsWith("nanp-area-codes.csv: Source: NANPA", source, StringComparison.Ordinal),
            source => Assert.StartsWith("us-recording-consent.csv: Source:", source, StringComparison.Ordinal));
    }
}
