using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace VoiceKraliki.Telephony.Tests.Signatures;

/// <summary>FsCheck generators for the signature properties: URLs, form fields, tokens and bodies.</summary>
internal static class SignatureGenerators
{
    private static readonly Config PropertyConfig = Config.QuickThrowOnFailure.WithMaxTest(300);

    /// <summary>Runs a property 300 times and fails the test with FsCheck's shrunk counter-example.</summary>
    internal static void Holds(Property property) => Check.One(PropertyConfig, property);

    // Units rather than chars keep surrogate pairs whole, so every generated string is valid UTF-16.
    private static readonly string[] TextUnits =
    [
        "a", "b", "C", "x", "Z", "0", "7", "-", ".", "_", "~", "+", "/", "%", "%27", "'", "&", "=", "?", ":", "@",
        " ", "#", "\"", "é", "ñ", "王", "😀", "\u00a0", "\0",
    ];

    private static readonly string[] HostUnits = ["a", "b", "m", "Y", "Z", "0", "9", "-", "."];

    private static readonly string[] PathUnits = ["a", "B", "3", "/", "-", "_", ".", "%20", "é", "'", "%27", "~", "!"];

    private static readonly string[] QueryUnits = ["a", "B", "3", "=", "&", "+", "%2B", "'", "%27", "é", "王", "-", "/", "?", ":"];

    internal static Gen<string> Text(int minUnits, int maxUnits, string[]? units = null) =>
        from count in Gen.Choose(minUnits, maxUnits)
        from parts in Gen.ArrayOf(Gen.Elements(units ?? TextUnits), count)
        select string.Concat(parts);

    internal static Gen<string> Url =>
        from scheme in Gen.Elements("https", "http", "HTTPS", "Http")
        from userInfo in Gen.Elements("", "user@", "user:pass@", "Us3r:P%40ss@")
        from host in Text(1, 12, HostUnits)
        from port in Gen.Elements("", "", ":443", ":80", ":8080", ":1", ":65535")
        from path in Text(0, 20, PathUnits)
        from hasQuery in Gen.Elements(true, false)
        from query in Text(0, 30, QueryUnits)
        select $"{scheme}://{userInfo}{host}{port}/{path}{(hasQuery ? "?" + query : "")}";

    internal static Gen<KeyValuePair<string, string>[]> Fields =>
        from count in Gen.Choose(0, 15)
        from keys in Gen.ArrayOf(Text(1, 10), count)
        from values in Gen.ArrayOf(Text(0, 20), count)
        select keys.Zip(values, (k, v) => new KeyValuePair<string, string>(k, v)).ToArray();

    internal static Gen<string> Token => Text(1, 40);

    internal static Gen<byte[]> Bytes(int maxLength) =>
        from length in Gen.Choose(0, maxLength)
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
        select bytes;

    /// <summary>A position and a non-zero XOR mask: enough to change any one byte of anything.</summary>
    internal static Gen<(int Position, byte Mask)> ByteChange =>
        from position in Gen.Choose(0, int.MaxValue - 1)
        from mask in Gen.Choose(1, 255)
        select (position, (byte)mask);

    /// <summary>The string whose UTF-8 differs from <paramref name="text"/>'s in exactly one byte (decoded leniently).</summary>
    internal static string ChangeOneByte(string text, (int Position, byte Mask) change)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes[change.Position % bytes.Length] ^= change.Mask;
        return Encoding.UTF8.GetString(bytes);
    }

    internal static byte[] ChangeOneByte(byte[] bytes, (int Position, byte Mask) change)
    {
        var copy = (byte[])bytes.Clone();
        copy[change.Position % copy.Length] ^= change.Mask;
        return copy;
    }
}
