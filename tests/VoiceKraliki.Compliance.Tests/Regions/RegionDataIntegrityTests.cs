using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Tests.Regions;

/// <summary>
/// The embedded tables decide consent, so their content is checked here and not only their parsing: a missing state
/// or a mis-mapped EU member would silently pick the wrong policy.
/// </summary>
public class RegionDataIntegrityTests
{
    private static readonly string[] UsStatesAndDc =
    [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
        "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
        "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    ];

    private static readonly string[] AllPartyStates =
        ["CA", "DE", "FL", "IL", "MD", "MA", "MT", "NV", "NH", "PA", "WA", "CT", "MI", "OR"];

    private static readonly string[] CanadianProvincesAndTerritories =
        ["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"];

    private static readonly string[] EuMembers =
    [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ];

    private static readonly RegionData Data = RegionData.LoadEmbedded();

    private static string Embedded(string file)
    {
        var assembly = typeof(RegionDirectory).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".Regions.Data." + file, StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
        return reader.ReadToEnd();
    }

    private static string[] DataLines(string file) =>
        Embedded(file).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .Skip(1)
            .ToArray();

    private static RegionData Parse(string? countryCodes = null, string? areaCodes = null, string? recordingConsent = null) =>
        RegionData.Parse(
            new StringReader(countryCodes ?? Embedded(RegionData.CountryCodesFile)),
            new StringReader(areaCodes ?? Embedded(RegionData.AreaCodesFile)),
            new StringReader(recordingConsent ?? Embedded(RegionData.RecordingConsentFile)));

    private static int LineCount(string text) => text.TrimEnd('\n').Split('\n').Length;

    [Fact]
    public void Every_row_of_every_file_parses_and_none_is_skipped()
    {
        Assert.Equal(DataLines(RegionData.CountryCodesFile).Length, Data.CallingCodes.Count());
        Assert.Equal(DataLines(RegionData.AreaCodesFile).Length, Data.AreaCodes.Count);
        Assert.Equal(DataLines(RegionData.RecordingConsentFile).Length, Data.RecordingConsent.Count);
    }

    [Theory]
    [InlineData(RegionData.CountryCodesFile, "# Source: ITU-T E.164 assigned country codes")]
    [InlineData(RegionData.AreaCodesFile, "# Source: NANPA NPA (area code) assignments")]
    [InlineData(RegionData.RecordingConsentFile, "# Source: ")]
    public void Every_file_states_its_source_and_date(string file, string source)
    {
        var header = Embedded(file).Split('\n')[0];

        Assert.StartsWith(source, header, StringComparison.Ordinal);
        Assert.Contains("compiled 2026-11", header, StringComparison.Ordinal);
    }

    [Fact]
    public void No_area_code_is_listed_twice()
    {
        var npas = DataLines(RegionData.AreaCodesFile).Select(line => line[..3]).ToList();

        Assert.Empty(npas.GroupBy(npa => npa).Where(group => group.Count() > 1).Select(group => group.Key));
    }

    [Fact]
    public void Every_us_state_and_dc_has_a_consent_rule()
    {
        Assert.Empty(UsStatesAndDc.Except(Data.RecordingConsent.Keys));
    }

    [Fact]
    public void The_all_party_states_are_the_documented_ones_and_the_other_states_are_one_party()
    {
        var allPartyStates = Data.RecordingConsent.Values
            .Where(rule => rule.AllParty && UsStatesAndDc.Contains(rule.State))
            .Select(rule => rule.State);

        Assert.Equal(AllPartyStates.Order(), allPartyStates.Order());
    }

    [Fact]
    public void Every_us_state_and_dc_has_an_area_code()
    {
        var covered = Data.AreaCodes.Values.Where(area => area.Country == "US").SelectMany(area => area.Subdivisions).ToHashSet();

        Assert.Empty(UsStatesAndDc.Except(covered));
    }

    [Fact]
    public void Every_canadian_province_and_territory_has_an_area_code()
    {
        var covered = Data.AreaCodes.Values.Where(area => area.Country == "CA").SelectMany(area => area.Subdivisions).ToHashSet();

        Assert.Empty(CanadianProvincesAndTerritories.Except(covered));
    }

    [Fact]
    public void Every_us_territory_area_code_is_region_us_with_a_consent_rule()
    {
        foreach (var territory in new[] { "PR", "VI", "GU", "MP", "AS" })
        {
            var areas = Data.AreaCodes.Values.Where(area => area.Country == territory).ToList();
            Assert.NotEmpty(areas);
            Assert.All(areas, area => Assert.Equal(Region.US, area.Region));
            Assert.All(areas, area => Assert.Equal([territory], area.Subdivisions));
            Assert.Contains(territory, Data.RecordingConsent.Keys);
        }
    }

    [Fact]
    public void Every_nanp_country_in_the_area_codes_is_listed_under_plus_1()
    {
        var nanp = Data.CallingCodes.Single(entry => entry.Code == 1);

        Assert.Empty(Data.AreaCodes.Values.Select(area => area.Country).OfType<string>().Distinct().Except(nanp.Countries));
        Assert.Empty(nanp.Countries.Except(Data.AreaCodes.Values.Select(area => area.Country).OfType<string>()));
    }

    [Fact]
    public void Every_eu_member_is_in_the_country_table_mapped_to_eu_with_explicit_consent()
    {
        foreach (var member in EuMembers)
        {
            var entries = Data.CallingCodes.Where(entry => entry.Countries.Contains(member)).ToList();
            Assert.True(entries.Count > 0, $"{member} is missing");
            Assert.All(entries, entry => Assert.Equal(Region.EU, entry.Region));
            Assert.All(entries, entry => Assert.True(entry.ExplicitConsent, $"{member} needs explicit consent"));
        }
    }

    [Fact]
    public void Only_eu_members_and_their_outermost_regions_are_mapped_to_eu()
    {
        string[] outermostRegions = ["RE", "YT", "GP", "BL", "MF", "GF", "MQ", "AX"];

        var euCountries = Data.CallingCodes.Where(entry => entry.Region == Region.EU).SelectMany(entry => entry.Countries);

        Assert.Empty(euCountries.Except(EuMembers).Except(outermostRegions));
    }

    [Fact]
    public void Every_explicit_consent_entry_is_eu_uk_or_a_documented_gdpr_country()
    {
        string[] gdprOutsideEuAndUk = ["NO", "SJ", "IS", "LI", "GI"];

        foreach (var entry in Data.CallingCodes.Where(entry => entry.ExplicitConsent))
        {
            Assert.True(
                entry.Region is Region.EU or Region.UK || entry.Countries.All(gdprOutsideEuAndUk.Contains),
                $"+{entry.Code} {entry.NationalPrefix} ({entry.Name})");
        }
    }

    [Fact]
    public void Plus_44_is_uk_plus_61_is_au_and_plus_7_is_other()
    {
        Assert.Equal(Region.UK, Data.Match(44, "2079460000").Region);
        Assert.Equal(Region.AU, Data.Match(61, "212345678").Region);
        Assert.Equal(Region.OTHER, Data.Match(7, "4951234567").Region);
        Assert.Equal(Region.OTHER, Data.Match(7, "7012345678").Region);
    }

    [Theory]
    [InlineData("1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49")]
    [InlineData("51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98")]
    [InlineData("211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239")]
    [InlineData("240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269")]
    [InlineData("290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 379")]
    [InlineData("380 381 382 383 385 386 387 388 389 420 421 423")]
    [InlineData("500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599")]
    [InlineData("670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692")]
    [InlineData("800 808 850 852 853 855 856 870 878 880 881 882 883 886 888")]
    [InlineData("960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979 991 992 993 994 995 996 998")]
    public void The_assigned_country_calling_codes_are_present(string codes)
    {
        var present = Data.CallingCodes.Select(entry => entry.Code);
        var missing = codes.Split(' ').Select(int.Parse).Except(present);

        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("28")]
    [InlineData("210")]
    [InlineData("259")]
    [InlineData("384")]
    [InlineData("422")]
    [InlineData("671")]
    [InlineData("684")]
    [InlineData("693")]
    [InlineData("801")]
    [InlineData("969")]
    [InlineData("990")]
    [InlineData("999")]
    public void Spare_country_calling_codes_are_absent(string digits)
    {
        Assert.Equal(0, Data.CallingCodeLength((digits + "12345678").AsSpan()));
    }

    [Theory]
    [InlineData("530", "CA")]
    [InlineData("531", "NE")]
    public void Geographic_codes_in_the_personal_services_range_stay_geographic(string npa, string state)
    {
        var area = Data.AreaCodes[npa];

        Assert.True(area.Geographic);
        Assert.Equal([state], area.Subdivisions);
    }

    [Fact]
    public void A_duplicate_area_code_stops_the_load_naming_the_file_and_line()
    {
        var areaCodes = Embedded(RegionData.AreaCodesFile);
        var badLine = LineCount(areaCodes) + 1;

        var exception = Assert.Throws<InvalidDataException>(() => Parse(areaCodes: areaCodes + "212,US,NY,US,geographic,New York\n"));

        Assert.StartsWith($"nanp-area-codes.csv line {badLine}: area code 212 is listed twice", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_region_stops_the_load_naming_the_file_and_line()
    {
        var countryCodes = Embedded(RegionData.CountryCodesFile).Replace("\n55,,BR,OTHER,", "\n55,,BR,LATAM,", StringComparison.Ordinal);
        var badLine = Array.FindIndex(countryCodes.Split('\n'), line => line.StartsWith("55,", StringComparison.Ordinal)) + 1;

        var exception = Assert.Throws<InvalidDataException>(() => Parse(countryCodes: countryCodes));

        Assert.StartsWith($"country-codes.csv line {badLine}: region must be one of", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_calling_code_that_prefixes_another_stops_the_load()
    {
        var countryCodes = Embedded(RegionData.CountryCodesFile) + "2,,XX,OTHER,no,country,Not a code\n";

        var exception = Assert.Throws<InvalidDataException>(() => Parse(countryCodes: countryCodes));

        Assert.Contains("calling codes must be prefix-free", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_us_area_code_for_a_state_without_a_consent_rule_stops_the_load()
    {
        var consent = string.Join('\n', Embedded(RegionData.RecordingConsentFile).Split('\n').Where(line => !line.StartsWith("TX,", StringComparison.Ordinal)));

        var exception = Assert.Throws<InvalidDataException>(() => Parse(recordingConsent: consent));

        Assert.Matches(@"^nanp-area-codes\.csv line \d+: TX is not in us-recording-consent\.csv", exception.Message);
    }

    [Theory]
    [InlineData("212,US,NY,US,geographic", "5 columns, expected 6")]
    [InlineData("21,US,NY,US,geographic,New York", "npa must be 3 digits")]
    [InlineData("199,US,NY,US,geographic,New York", "npa must be 3 digits starting 2-9")]
    [InlineData("298,US,NY,CA,geographic,New York", "region must be US")]
    [InlineData("298,US,,US,geographic,Nowhere", "must name its state")]
    [InlineData("298,US,New York,US,geographic,New York", "two-letter upper-case codes")]
    [InlineData("298,,,OTHER,geographic,Somewhere", "must name its country")]
    public void A_malformed_area_code_row_stops_the_load_naming_the_file_and_line(string row, string problem)
    {
        var areaCodes = Embedded(RegionData.AreaCodesFile);
        var badLine = LineCount(areaCodes) + 1;

        var exception = Assert.Throws<InvalidDataException>(() => Parse(areaCodes: areaCodes + row + "\n"));

        Assert.StartsWith($"nanp-area-codes.csv line {badLine}: ", exception.Message, StringComparison.Ordinal);
        Assert.Contains(problem, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_a_source_line_stops_the_load()
    {
        var consent = string.Join('\n', Embedded(RegionData.RecordingConsentFile).Split('\n').Where(line => !line.StartsWith("# Source:", StringComparison.Ordinal)));

        var exception = Assert.Throws<InvalidDataException>(() => Parse(recordingConsent: consent));

        Assert.Contains("us-recording-consent.csv line", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'# Source:' comment must come before the header", exception.Message, StringComparison.Ordinal);
    }
}
