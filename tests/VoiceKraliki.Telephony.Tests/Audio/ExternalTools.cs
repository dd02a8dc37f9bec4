using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VoiceKraliki.Telephony.Tests.Audio;

/// <summary>
/// The independent reference implementations the audio tests check against: SoX, espeak-ng and CPython's audioop
/// (Debian 12's python3 is 3.11, which still ships it). A missing tool fails the test, it never skips it: a skipped
/// reference check looks like a passed one.
/// </summary>
internal static class ExternalTools
{
    public const string Sox = "/usr/bin/sox";
    public const string EspeakNg = "/usr/bin/espeak-ng";
    public const string Python = "/usr/bin/python3";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs <paramref name="tool"/> with <paramref name="stdin"/> piped in and returns its standard output; fails the test unless it exits 0.</summary>
    public static byte[] Run(string tool, IEnumerable<string> arguments, byte[]? stdin = null)
    {
        if (!File.Exists(tool))
        {
            Assert.Fail($"{tool} is missing; the audio tests compare against it. Run scripts/prerequisites.sh.");
        }

        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");

        // Feed stdin and drain both outputs at once: a tool blocked writing a full pipe never reads the rest of its input.
        var writing = Task.Run(() =>
        {
            if (stdin is not null)
            {
                process.StandardInput.BaseStream.Write(stdin);
            }

            process.StandardInput.Close();
        });
        var stderr = process.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        var reading = process.StandardOutput.BaseStream.CopyToAsync(stdout);

        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            Assert.Fail($"{tool} {string.Join(' ', start.ArgumentList)} did not finish within {Timeout}.");
        }

        Task.WaitAll(writing, reading, stderr);
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{tool} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {stderr.Result}");
        }

        return stdout.ToArray();
    }

    public static byte[] RunSox(params string[] arguments) => Run(Sox, arguments);

    /// <summary>Runs one CPython audioop function over <paramref name="input"/> (e.g. "ulaw2lin", "lin2alaw"), with 2-byte samples.</summary>
    public static byte[] Audioop(string function, byte[] input) =>
        Run(
            Python,
            ["-W", "ignore::DeprecationWarning", "-c", $"import sys, audioop; sys.stdout.buffer.write(audioop.{function}(sys.stdin.buffer.read(), 2))"],
            input);

    /// <summary>PCM16 as raw bytes in this machine's (little-endian) order, which is what audioop and SoX's s16 use here.</summary>
    public static byte[] ToBytes(ReadOnlySpan<short> samples) => MemoryMarshal.AsBytes(samples).ToArray();

    public static short[] ToSamples(byte[] bytes)
    {
        Assert.True(bytes.Length % 2 == 0, $"{bytes.Length} bytes are not whole PCM16 samples.");
        return MemoryMarshal.Cast<byte, short>(bytes).ToArray();
    }
}

/// <summary>A fresh directory under the system temp directory, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("voicekraliki-audio-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A tool still holding a file open; the OS temp cleaner gets it.
        }
    }
}
