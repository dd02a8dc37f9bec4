using System.Text;

namespace VoiceKraliki.Compliance.Regions;

/// <summary>
/// Where a phone number belongs and which consent policy follows from it, with the reasoning in <see cref="Basis"/> so
/// that every recording decision can later be explained (an area code is a rate area, not a location).
/// </summary>
/// <param name="E164">The number as given: E.164 when it parsed, otherwise the trimmed input.</param>
/// <param name="Region">The policy region; <see cref="Regions.Region.OTHER"/> when <paramref name="Known"/> is false.</param>
/// <param name="Country">
/// ISO 3166-1 alpha-2; several separated by ';' where the number cannot tell countries sharing a code apart; null when
/// unknown.
/// </param>
/// <param name="Subdivision">
/// ISO 3166-2 code without the country prefix (US state, DC or territory; Canadian province or territory); several
/// separated by ';' where one area code serves several (902/782 NS;PE, 867 YT;NT;NU); null when not known or not used.
/// </param>
/// <param name="Known">False when the region cannot be told; the consent flags are then the strictest.</param>
/// <param name="AllPartyConsent">
/// True when recording needs every party's consent: a US all-party state or territory, a US number whose state is
/// unknown, or an unknown number.
/// </param>
/// <param name="ExplicitConsentRegion">
/// True where the GDPR or a law that copies it applies (EU, EEA, UK), or the number is unknown.
/// </param>
/// <param name="Basis">One sentence saying how the region was determined, for the audit trail.</param>
public sealed record RegionLookup(
    string E164,
    Region Region,
    string? Country,
    string? Subdivision,
    bool Known,
    bool AllPartyConsent,
    bool ExplicitConsentRegion,
    string Basis)
{
    /// <summary>Prints the number masked, because lookups end up in logs and the full number must not.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("E164 = ").Append(PhoneNumber.Mask(E164))
            .Append(", Region = ").Append(Region)
            .Append(", Country = ").Append(Country)
            .Append(", Subdivision = ").Append(Subdivision)
            .Append(", Known = ").Append(Known)
            .Append(", AllPartyConsent = ").Append(AllPartyConsent)
            .Append(", ExplicitConsentRegion = ").Append(ExplicitConsentRegion)
            .Append(", Basis = ").Append(Basis);
        return true;
    }
}
