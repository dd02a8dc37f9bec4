namespace VoiceKraliki.Compliance.Regions;

/// <summary>
/// Tells which region a phone number belongs to and the consent policy that follows, from the ITU calling-code,
/// NANPA area-code and US recording-consent tables embedded in this assembly. Where the number does not say, the
/// answer is <see cref="RegionLookup.Known"/> = false with the strictest policy, never a guess.
/// </summary>
/// <remarks>
/// One instance per process (<see cref="Shared"/>): the tables are parsed once, and a bad row throws
/// <see cref="InvalidDataException"/> naming the file and line on first use, so resolve it at start.
/// </remarks>
public sealed class RegionDirectory
{
    private const string RateAreaCaveat = "an area code is the number's rate area, not where the caller is";
    private const string StrictestPolicy = "the region cannot be told, so the strictest policy applies (all-party and explicit consent)";

    /// <summary>Said wherever both flags are false, so that false is not read as "no consent rule applies".</summary>
    private const string NotModelled = "this region's own recording-consent rules are not modelled here";

    private static readonly Lazy<RegionDirectory> Instance = new(() => new RegionDirectory(RegionData.Embedded));

    private readonly RegionData _data;

    internal RegionDirectory(RegionData data)
    {
        _data = data;
    }

    /// <summary>The process-wide directory over the embedded tables.</summary>
    /// <exception cref="InvalidDataException">An embedded table has a bad row; the message names the file and line.</exception>
    public static RegionDirectory Shared => Instance.Value;

    /// <summary>The "# Source:" line of each table, to record which data a decision was made with.</summary>
    public IReadOnlyList<string> Sources => _data.Sources;

    /// <summary>
    /// Looks up a number given as text, as a provider sends it. Text that is not a usable E.164 number (including one
    /// whose country calling code is not assigned) gives <see cref="RegionLookup.Known"/> = false and the strictest
    /// policy, with the reason in <see cref="RegionLookup.Basis"/>.
    /// </summary>
    public RegionLookup Lookup(string? text) =>
        PhoneNumber.TryParse(text, _data, out var number, out var error)
            ? Lookup(number)
            : Unknown(text?.Trim() ?? string.Empty, $"Not a usable phone number ({char.ToLowerInvariant(error[0])}{error[1..].TrimEnd('.')})");

    public RegionLookup Lookup(PhoneNumber number)
    {
        ArgumentNullException.ThrowIfNull(number);
        var national = number.NationalNumber;
        var entry = _data.Match(number.CallingCode, national);
        return entry.Scope switch
        {
            CallingCodeScope.Nanp => LookupNanp(number.Value, national),
            CallingCodeScope.Global => Unknown(
                number.Value,
                $"Country calling code +{entry.Code} is a non-geographic international service ({entry.Name}): the number does not say where its subscriber is"),
            _ => FromCallingCode(number.Value, entry),
        };
    }

    private static RegionLookup FromCallingCode(string e164, CallingCodeEntry entry)
    {
        var code = entry.NationalPrefix.Length == 0 ? $"+{entry.Code}" : $"+{entry.Code} {entry.NationalPrefix}";
        var countries = string.Join(';', entry.Countries);
        var consent = entry.ExplicitConsent
            ? "the GDPR or a law that copies it applies, so consent must be explicit and demonstrable"
            : NotModelled;
        return new RegionLookup(
            e164,
            entry.Region,
            countries,
            Subdivision: null,
            Known: true,
            AllPartyConsent: false,
            ExplicitConsentRegion: entry.ExplicitConsent,
            $"Country calling code {code} → {countries}, {entry.Name}; region {entry.Region}; {consent}");
    }

    private RegionLookup LookupNanp(string e164, string national)
    {
        if (national.Length != 10)
        {
            return Unknown(e164, $"A +1 (NANP) number has 10 digits after +1, this one has {national.Length}");
        }

        var npa = national[..3];
        if (!_data.AreaCodes.TryGetValue(npa, out var area))
        {
            return Unknown(e164, $"NANP area code {npa} is not in the NANPA table we ship (unassigned, reserved or newer than the table)");
        }

        if (area.Country is null)
        {
            return Unknown(e164, $"NANP code {npa} is non-geographic ({area.Name}): the number does not say which country or state its subscriber is in");
        }

        if (area.Region == Region.US)
        {
            return LookupUs(e164, npa, area);
        }

        var subdivision = area.Subdivisions.Count == 0 ? null : string.Join(';', area.Subdivisions);
        var basis = area switch
        {
            { Geographic: false } => $"NANP code {npa} is non-geographic ({area.Name}) → {area.Country}, {(area.Country == "CA" ? "province" : "place")} unknown; {NotModelled}",
            { Region: Region.CA } => $"NANP area code {npa} → {string.Join(" or ", area.Subdivisions.Select(s => "CA-" + s))} ({area.Name}); {NotModelled}; {RateAreaCaveat}",
            _ => $"NANP area code {npa} → {area.Country} ({area.Name}), a Caribbean NANP member, region OTHER; {NotModelled}; {RateAreaCaveat}",
        };
        return new RegionLookup(e164, area.Region, area.Country, subdivision, Known: true, AllPartyConsent: false, ExplicitConsentRegion: false, basis);
    }

    private RegionLookup LookupUs(string e164, string npa, AreaCodeEntry area)
    {
        if (area.Subdivisions.Count == 0)
        {
            return new RegionLookup(
                e164,
                Region.US,
                area.Country,
                Subdivision: null,
                Known: true,
                AllPartyConsent: true,
                ExplicitConsentRegion: false,
                $"NANP code {npa} is non-geographic ({area.Name}) → US, state unknown, so all-party consent to be safe");
        }

        var state = area.Subdivisions[0];
        var rule = _data.RecordingConsent[state];
        var kind = area.Country == "US" ? "state" : "US territory";
        var consent = rule.AllParty ? $"an all-party-consent {kind}" : $"a one-party-consent {kind}";
        return new RegionLookup(
            e164,
            Region.US,
            area.Country,
            state,
            Known: true,
            AllPartyConsent: rule.AllParty,
            ExplicitConsentRegion: false,
            $"NANP area code {npa} → US-{state} ({rule.Name}), {consent}; {RateAreaCaveat}");
    }

    private static RegionLookup Unknown(string e164, string reason) =>
        new(
            e164,
            Region.OTHER,
            Country: null,
            Subdivision: null,
            Known: false,
            AllPartyConsent: true,
            ExplicitConsentRegion: true,
            $"{reason}; {StrictestPolicy}");
}
