namespace VoiceKraliki.Compliance.Regions;

/// <summary>
/// The legal region a phone number belongs to, as far as recording and consent rules go. The set is coarse on purpose:
/// each value selects a policy, and a finer split (US state, Canadian province) travels in
/// <see cref="RegionLookup.Subdivision"/>.
/// </summary>
public enum Region
{
    /// <summary>United States, DC and the US territories on the NANP (PR, VI, GU, MP, AS).</summary>
    US,

    /// <summary>The 27 EU member states, including their outermost regions.</summary>
    EU,

    /// <summary>+44: the United Kingdom and the Crown Dependencies that share its code.</summary>
    UK,

    /// <summary>Canada.</summary>
    CA,

    /// <summary>+61 and the Australian external territories on +672.</summary>
    AU,

    /// <summary>East, Southeast and South Asia and the Pacific islands other than Australia's (list in country-codes.csv).</summary>
    APAC,

    /// <summary>Everywhere else, and any number whose region cannot be told.</summary>
    OTHER,
}
