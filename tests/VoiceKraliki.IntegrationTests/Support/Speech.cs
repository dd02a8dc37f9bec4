using System.Diagnostics;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>
/// Real speech for media tests: spoken by espeak-ng, resampled and μ-law/A-law encoded by SoX, and decoded again by
/// SoX as the independent reference our bridge must match sample for sample.
/// </summary>
public static class Speech
{
    private const string Text =
        "Thank you for calling VoiceKraliki. Your call may be recorded for quality and training purposes. " +
        "Please say the reason for your call after the tone, or press one to speak to an agent. " +
        "For billing questions, press two. To hear these options again, press nine.";

    /// <summary>G.711 bytes of <paramref name="seconds"/> of speech at 8 kHz (<c>ul</c> μ-law or <c>al</c> A-law), and SoX's decode of them.</summary>
    public static (byte[] Encoded, short[] Decoded) Make(string soxType, double seconds)
    {
        var directory = Directory.CreateTempSubdirectory("vk-speech-");
        try
        {
            var wav = Path.Combine(directory.FullName, "speech.wav");
            var encoded = Path.Combine(directory.FullName, "speech." + soxType);
            var decoded = Path.Combine(directory.FullName, "decoded.raw");
            Run("/usr/bin/espeak-ng", "-s", "150", "-w", wav, Text);
            // Exactly `seconds` long: trimmed, or padded with silence.
            Run("/usr/bin/sox", wav, "-r", "8000", "-c", "1", "-t", soxType, encoded,
                "pad", "0", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "trim", "0",
                seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Run("/usr/bin/sox", "-t", soxType, "-r", "8000", "-c", "1", encoded, "-t", "s16", "-e", "signed-integer", "-L", decoded);
            var bytes = File.ReadAllBytes(encoded);
            var raw = File.ReadAllBytes(decoded);
            var samples = new short[raw.Length / 2];
            Buffer.BlockCopy(raw, 0, samples, 0, samples.Length * 2);
            return (bytes, samples);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void Run(string tool, params string[] arguments)
    {
        if (!File.Exists(tool))
        {
            throw new InvalidOperationException($"{tool} is missing: run scripts/prerequisites.sh.");
        }

        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(tool)} failed ({process.ExitCode}): {error.Result}");
        }
    }
}
