using System.Collections.Frozen;
using System.Globalization;

namespace VoiceKraliki.Compliance.Regions;

/// <summary>How much a country calling code says about where its subscriber is.</summary>
internal enum CallingCodeScope
{
    /// <summary>The code (with its national prefix) names one or more countries.</summary>
    Country,

    /// <summary>+1: the area code decides.</summary>
    Nanp,

    /// <summary>A non-geographic international service (+800, +881 …): the subscriber could be anywhere.</summary>
    Global,
}

/// <summary>One row of country-codes.csv.</summary>
internal sealed record CallingCodeEntry(
    int Code,
    string NationalPrefix,
    IReadOnlyList<string> Countries,
    Region Region,
    bool ExplicitConsent,
    CallingCodeScope Scope,
    string Name);

/// <summary>One row of nanp-area-codes.csv. <see cref="Country"/> is null for codes shared by several NANP countries.</summary>
internal sealed record AreaCodeEntry(
    string Npa,
    string? Country,
    IReadOnlyList<string> Subdivisions,
    Region Region,
    bool Geographic,
    string Name);

/// <summary>One row of us-recording-consent.csv.</summary>
internal sealed record RecordingConsentEntry(string State, string Name, bool AllParty, string Note);

/// <summary>
/// The three embedded tables, parsed and cross-checked once per process. Any bad row stops the load with the file and
/// line, so a broken table fails the service at start instead of silently deciding consent wrongly.
/// </summary>
internal sealed class RegionData
{
    public const string CountryCodesFile = "country-codes.csv";
    public const string AreaCodesFile = "nanp-area-codes.csv";
    public const string RecordingConsentFile = "us-recording-consent.csv";

    private const string CountryCodesHeader = "code,national_prefix,countries,region,explicit_consent,scope,name";
    private const string AreaCodesHeader = "npa,country,subdivision,region,kind,name";
    private const string RecordingConsentHeader = "state,name,consent,note";

    /// <summary>Countries whose NANP numbers fall under US law: the states and DC (country US) and the territories.</summary>
    private static readonly FrozenSet<string> UsNanpCountries = FrozenSet.Create(StringComparer.Ordinal, "US", "PR", "VI", "GU", "MP", "AS");

    private static readonly Lazy<RegionData> EmbeddedData = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly FrozenDictionary<int, CallingCodeEntry[]> _callingCodes;

    private RegionData(
        FrozenDictionary<int, CallingCodeEntry[]> callingCodes,
        FrozenDictionary<string, AreaCodeEntry> areaCodes,
        FrozenDictionary<string, RecordingConsentEntry> recordingConsent,
        IReadOnlyList<string> sources)
    {
        _callingCodes = callingCodes;
        AreaCodes = areaCodes;
        RecordingConsent = recordingConsent;
        Sources = sources;
    }

    /// <summary>The tables embedded in this assembly, loaded on first use; a load failure is rethrown on every use.</summary>
    public static RegionData Embedded => EmbeddedData.Value;

    public IEnumerable<CallingCodeEntry> CallingCodes => _callingCodes.Values.SelectMany(entries => entries);

    public FrozenDictionary<string, AreaCodeEntry> AreaCodes { get; }

    public FrozenDictionary<string, RecordingConsentEntry> RecordingConsent { get; }

    /// <summary>The "# Source:" lines of each file, prefixed with the file name.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>The length of the assigned calling code that starts <paramref name="digits"/>, or 0 if none does.</summary>
    public int CallingCodeLength(ReadOnlySpan<char> digits)
    {
        // No code starts with 0, and reading on would take "01" for code 1.
        if (digits.IsEmpty || digits[0] == '0')
        {
            return 0;
        }

        var code = 0;
        for (var length = 1; length <= 3 && length <= digits.Length && char.IsAsciiDigit(digits[length - 1]); length++)
        {
            code = (code * 10) + (digits[length - 1] - '0');
            if (_callingCodes.ContainsKey(code))
            {
                return length;
            }
        }

        return 0;
    }

    /// <summary>The row with the longest national prefix that <paramref name="nationalNumber"/> starts with.</summary>
    public CallingCodeEntry Match(int callingCode, string nationalNumber)
    {
        // Rows are sorted longest prefix first, and every code has a default row with an empty prefix.
        foreach (var entry in _callingCodes[callingCode])
        {
            if (nationalNumber.StartsWith(entry.NationalPrefix, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        throw new InvalidOperationException($"Calling code +{callingCode} has no default row.");
    }

    public static RegionData LoadEmbedded()
    {
        var assembly = typeof(RegionData).Assembly;

        TextReader Open(string file)
        {
            var name = assembly.GetManifestResourceNames()
                .SingleOrDefault(n => n.EndsWith(".Regions.Data." + file, StringComparison.Ordinal))
                ?? throw new InvalidDataException($"{file}: not embedded in {assembly.GetName().Name}; the csproj must embed Regions/Data/*.csv.");
            return new StreamReader(assembly.GetManifestResourceStream(name)!);
        }

        using var countryCodes = Open(CountryCodesFile);
        using var areaCodes = Open(AreaCodesFile);
        using var recordingConsent = Open(RecordingConsentFile);
        return Parse(countryCodes, areaCodes, recordingConsent);
    }

    /// <exception cref="InvalidDataException">A row is bad; the message names the file and line.</exception>
    public static RegionData Parse(TextReader countryCodes, TextReader areaCodes, TextReader recordingConsent)
    {
        var sources = new List<string>();
        var callingRows = Read(countryCodes, CountryCodesFile, CountryCodesHeader, 7, sources);
        var areaRows = Read(areaCodes, AreaCodesFile, AreaCodesHeader, 6, sources);
        var consentRows = Read(recordingConsent, RecordingConsentFile, RecordingConsentHeader, 4, sources);

        // Consent first: every US area code is checked against it.
        var consent = ParseRecordingConsent(consentRows);
        return new RegionData(ParseCallingCodes(callingRows), ParseAreaCodes(areaRows, consent), consent, sources);
    }

    private static FrozenDictionary<string, RecordingConsentEntry> ParseRecordingConsent(IEnumerable<Row> rows)
    {
        var entries = new Dictionary<string, RecordingConsentEntry>(StringComparer.Ordinal);
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var state = row.Code(0, "state");
            if (lines.TryGetValue(state, out var first))
            {
                throw row.Error($"state {state} is listed twice (first on line {first})");
            }

            var allParty = row[2] switch
            {
                "all-party" => true,
                "one-party" => false,
                _ => throw row.Error($"consent must be all-party or one-party, not '{row[2]}'"),
            };
            entries[state] = new RecordingConsentEntry(state, row.Required(1, "name"), allParty, row.Required(3, "note"));
            lines[state] = row.Line;
        }

        return entries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static FrozenDictionary<int, CallingCodeEntry[]> ParseCallingCodes(IEnumerable<Row> rows)
    {
        var byCode = new Dictionary<string, List<(CallingCodeEntry Entry, int Line)>>(StringComparer.Ordinal);
        var lastLine = 0;
        foreach (var row in rows)
        {
            lastLine = row.Line;
            var code = row[0];
            if (code.Length is < 1 or > 3 || !code.All(char.IsAsciiDigit) || code[0] == '0')
            {
                throw row.Error($"code must be 1 to 3 digits not starting with 0, not '{code}'");
            }

            var prefix = row[1];
            if (!prefix.All(char.IsAsciiDigit))
            {
                throw row.Error($"national_prefix must be digits or empty, not '{prefix}'");
            }

            var scope = row[5] switch
            {
                "country" => CallingCodeScope.Country,
                "nanp" => CallingCodeScope.Nanp,
                "global" => CallingCodeScope.Global,
                _ => throw row.Error($"scope must be country, nanp or global, not '{row[5]}'"),
            };
            var countries = row.CodeList(2, "countries");
            if ((scope == CallingCodeScope.Global) != (countries.Count == 0))
            {
                throw row.Error("countries must be empty for a global code and given otherwise");
            }

            if (scope == CallingCodeScope.Nanp && (code != "1" || prefix.Length != 0 || row[3].Length != 0))
            {
                throw row.Error("only +1 is resolved by NANP area code, with no national_prefix and an empty region");
            }

            var region = scope == CallingCodeScope.Nanp ? Region.OTHER : row.Region(3);
            if (scope != CallingCodeScope.Nanp && region is Region.US or Region.CA)
            {
                throw row.Error($"region {region} is reached through +1 only, where the area code decides");
            }

            if (scope == CallingCodeScope.Global && region != Region.OTHER)
            {
                throw row.Error("a global code says nothing about place, so its region is OTHER");
            }
            var entry = new CallingCodeEntry(
                int.Parse(code, CultureInfo.InvariantCulture), prefix, countries, region, row.YesNo(4, "explicit_consent"), scope, row.Required(6, "name"));

            if (!byCode.TryGetValue(code, out var list))
            {
                list = [];
                byCode[code] = list;
            }

            var same = list.FindIndex(e => e.Entry.NationalPrefix == prefix);
            if (same >= 0)
            {
                throw row.Error($"+{code} with national prefix '{prefix}' is listed twice (first on line {list[same].Line})");
            }

            if (list.Count > 0 && list[0].Entry.Scope != scope)
            {
                throw row.Error($"every row of +{code} must have the same scope as line {list[0].Line}");
            }

            list.Add((entry, row.Line));
        }

        foreach (var (code, list) in byCode)
        {
            if (!list.Exists(e => e.Entry.NationalPrefix.Length == 0))
            {
                throw new InvalidDataException($"{CountryCodesFile} line {list[0].Line}: +{code} has no default row (one with an empty national_prefix).");
            }

            foreach (var other in byCode.Keys)
            {
                if (other != code && other.StartsWith(code, StringComparison.Ordinal))
                {
                    throw new InvalidDataException(
                        $"{CountryCodesFile} line {byCode[other][0].Line}: +{other} starts with the code +{code} (line {list[0].Line}); calling codes must be prefix-free.");
                }
            }
        }

        if (!byCode.ContainsKey("1"))
        {
            throw new InvalidDataException($"{CountryCodesFile} line {lastLine}: +1 (NANP) is missing.");
        }

        return byCode.ToFrozenDictionary(
            pair => int.Parse(pair.Key, CultureInfo.InvariantCulture),
            pair => pair.Value.Select(e => e.Entry).OrderByDescending(e => e.NationalPrefix.Length).ToArray());
    }

    private static FrozenDictionary<string, AreaCodeEntry> ParseAreaCodes(
        IEnumerable<Row> rows, FrozenDictionary<string, RecordingConsentEntry> consent)
    {
        var entries = new Dictionary<string, AreaCodeEntry>(StringComparer.Ordinal);
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var npa = row[0];
            if (npa.Length != 3 || !npa.All(char.IsAsciiDigit) || npa[0] < '2')
            {
                throw row.Error($"npa must be 3 digits starting 2-9, not '{npa}'");
            }

            if (lines.TryGetValue(npa, out var first))
            {
                throw row.Error($"area code {npa} is listed twice (first on line {first})");
            }

            var country = row[1].Length == 0 ? null : row.Code(1, "country");
            var subdivisions = row.CodeList(2, "subdivision");
            var region = row.Region(3);
            var geographic = row[4] switch
            {
                "geographic" => true,
                "non-geographic" => false,
                _ => throw row.Error($"kind must be geographic or non-geographic, not '{row[4]}'"),
            };

            var expected = country switch
            {
                null => Region.OTHER,
                "CA" => Region.CA,
                _ when UsNanpCountries.Contains(country) => Region.US,
                _ => Region.OTHER,
            };
            if (region != expected)
            {
                throw row.Error($"region must be {expected} for country '{country}', not {region}");
            }

            if (country is null && geographic)
            {
                throw row.Error("a geographic area code must name its country");
            }

            if (geographic && country is ("US" or "CA") && subdivisions.Count == 0)
            {
                throw row.Error($"a geographic {country} area code must name its state, province or territory");
            }

            if (!geographic && subdivisions.Count > 0)
            {
                throw row.Error("a non-geographic code has no subdivision");
            }

            if (region == Region.US && subdivisions.Count > 0)
            {
                if (subdivisions.Count > 1)
                {
                    throw row.Error("a US area code names one state or territory, for the consent rule to be one");
                }

                if (!consent.ContainsKey(subdivisions[0]))
                {
                    throw row.Error($"{subdivisions[0]} is not in {RecordingConsentFile}, so its consent rule is unknown");
                }
            }

            entries[npa] = new AreaCodeEntry(npa, country, subdivisions, region, geographic, row.Required(5, "name"));
            lines[npa] = row.Line;
        }

        return entries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Yields the data rows of a file after checking it states its source and has the expected header.</summary>
    private static List<Row> Read(TextReader reader, string file, string header, int columns, List<string> sources)
    {
        var lineNumber = 0;
        var sawHeader = false;
        var rows = new List<Row>();
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                if (line.StartsWith("# Source:", StringComparison.Ordinal))
                {
                    sources.Add($"{file}: {line[2..]}");
                }

                continue;
            }

            if (!sawHeader)
            {
                if (line.Trim() != header)
                {
                    throw new InvalidDataException($"{file} line {lineNumber}: the header must be '{header}'.");
                }

                if (!sources.Exists(s => s.StartsWith(file + ":", StringComparison.Ordinal)))
                {
                    throw new InvalidDataException($"{file} line {lineNumber}: a '# Source:' comment must come before the header.");
                }

                sawHeader = true;
                continue;
            }

            var fields = line.Split(',', columns);
            if (fields.Length != columns)
            {
                throw new InvalidDataException($"{file} line {lineNumber}: {fields.Length} columns, expected {columns} ({header}).");
            }

            rows.Add(new Row(file, lineNumber, Array.ConvertAll(fields, f => f.Trim())));
        }

        if (!sawHeader)
        {
            throw new InvalidDataException($"{file} line {lineNumber}: the header '{header}' is missing.");
        }

        return rows;
    }

    /// <summary>A data line and where it came from, so that every complaint about it names the file and line.</summary>
    private sealed class Row(string file, int line, string[] fields)
    {
        public int Line => line;

        public string this[int index] => fields[index];

        public InvalidDataException Error(string problem) => new($"{file} line {line}: {problem}.");

        public string Required(int index, string column) =>
            fields[index].Length > 0 ? fields[index] : throw Error($"{column} is empty");

        /// <summary>A two-letter upper-case code: ISO 3166-1 alpha-2 or the part of ISO 3166-2 after the country.</summary>
        public string Code(int index, string column)
        {
            var value = fields[index];
            return value.Length == 2 && char.IsAsciiLetterUpper(value[0]) && char.IsAsciiLetterUpper(value[1])
                ? value
                : throw Error($"{column} must be a two-letter upper-case code, not '{value}'");
        }

        public IReadOnlyList<string> CodeList(int index, string column)
        {
            if (fields[index].Length == 0)
            {
                return [];
            }

            var codes = fields[index].Split(';');
            foreach (var code in codes)
            {
                if (code.Length != 2 || !char.IsAsciiLetterUpper(code[0]) || !char.IsAsciiLetterUpper(code[1]))
                {
                    throw Error($"{column} must be two-letter upper-case codes separated by ';', not '{fields[index]}'");
                }
            }

            return codes.Distinct(StringComparer.Ordinal).Count() == codes.Length
                ? codes
                : throw Error($"{column} names a code twice: '{fields[index]}'");
        }

        public Region Region(int index) =>
            Enum.GetNames<Region>().Contains(fields[index], StringComparer.Ordinal)
                ? Enum.Parse<Region>(fields[index])
                : throw Error($"region must be one of {string.Join(", ", Enum.GetNames<Region>())}, not '{fields[index]}'");

        public bool YesNo(int index, string column) => fields[index] switch
        {
            "yes" => true,
            "no" => false,
            _ => throw Error($"{column} must be yes or no, not '{fields[index]}'"),
        };
    }
}
