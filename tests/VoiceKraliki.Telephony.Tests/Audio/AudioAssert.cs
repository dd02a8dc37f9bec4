namespace VoiceKraliki.Telephony.Tests.Audio;

/// <summary>Sequence equality that says where long audio buffers first differ and how often, instead of dumping them.</summary>
internal static class AudioAssert
{
    public static void SameSamples(ReadOnlySpan<short> expected, ReadOnlySpan<short> actual, string what) =>
        Same(expected.ToArray(), actual.ToArray(), what);

    public static void SameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what) =>
        Same(expected.ToArray(), actual.ToArray(), what);

    private static void Same<T>(T[] expected, T[] actual, string what)
        where T : struct, IEquatable<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        var first = -1;
        var count = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]))
            {
                count++;
                first = first < 0 ? i : first;
            }
        }

        Assert.True(count == 0, $"{what}: {count} of {expected.Length} differ; the first at [{first}]: {(first < 0 ? "" : $"{actual[first]}, expected {expected[first]}")}.");
    }
}
