using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// The recordings folder: one <c>&lt;recordingId&gt;.wav</c> and one <c>&lt;recordingId&gt;.json</c> sidecar per recorded
/// stream, in one flat folder readable by this service's user only. The recording id is
/// <c>&lt;provider&gt;_&lt;callId&gt;_&lt;streamId&gt;</c> made safe for a file name, so provider ids can never name a path
/// outside the folder. Deletion goes through here too, and knows about recordings still being written.
/// </summary>
public sealed partial class RecordingStore
{
    internal const string AudioExtension = ".wav";
    internal const string SidecarExtension = ".json";
    internal const string TemporaryExtension = ".json.tmp";

    private const int MaxIdPartLength = 64;
    private const int WriteBufferBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, ActiveRecording> _active = new(StringComparer.Ordinal);
    private readonly ILogger<RecordingStore> _logger;

    public RecordingStore(IOptions<RecordingOptions> options, ILogger<RecordingStore> logger)
    {
        Folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.EffectiveDirectory));
        _logger = logger;
    }

    /// <summary>The absolute folder path.</summary>
    public string Folder { get; }

    /// <summary>
    /// Reserves a new recording for <paramref name="stream"/>: creates its WAV file (exclusively, so two streams never
    /// share one) and writes its first sidecar, made by <paramref name="sidecar"/> from the recording id. The caller
    /// owns <see cref="ActiveRecording.Audio"/> and must <see cref="Complete"/> or <see cref="Abandon"/> it.
    /// </summary>
    internal ActiveRecording Begin(MediaStreamInfo stream, Func<string, RecordingSidecar> sidecar)
    {
        EnsureFolder();
        var baseName = string.Join('_', ProviderName(stream.Provider), SafeIdPart(stream.CallId), SafeIdPart(stream.StreamId));
        for (var attempt = 1; attempt <= 100; attempt++)
        {
            var recordingId = attempt == 1 ? baseName : $"{baseName}-{attempt}";
            var wavPath = PathOf(recordingId, AudioExtension);
            FileStream audio;
            try
            {
                audio = new FileStream(wavPath, CreateOptions(FileMode.CreateNew));
            }
            catch (IOException) when (File.Exists(wavPath))
            {
                continue;
            }

            // Known as active before its sidecar exists: an erasure that finds the sidecar also finds the live recording.
            var recording = new ActiveRecording(recordingId, audio, sidecar(recordingId));
            _active[recordingId] = recording;
            try
            {
                lock (recording.Gate)
                {
                    WriteSidecar(recordingId, recording.Sidecar);
                }
            }
            catch
            {
                _active.TryRemove(recordingId, out _);
                audio.Dispose();
                DeleteFiles(recordingId);
                throw;
            }

            return recording;
        }

        throw new IOException($"Could not find a free recording file name for {baseName} in {Folder}.");
    }

    /// <summary>Writes the final sidecar, unless the recording was erased meanwhile; the WAV must be closed already.</summary>
    internal void Complete(ActiveRecording recording, RecordingSidecar final)
    {
        try
        {
            lock (recording.Gate)
            {
                if (recording.IsErased)
                {
                    DeleteFiles(recording.RecordingId);
                    return;
                }

                WriteSidecar(recording.RecordingId, final);
            }
        }
        finally
        {
            _active.TryRemove(recording.RecordingId, out _);
        }
    }

    /// <summary>Deletes a recording that could not be made (or was erased while it was being made).</summary>
    internal void Abandon(ActiveRecording recording)
    {
        lock (recording.Gate)
        {
            recording.MarkErased();
            DeleteFiles(recording.RecordingId);
        }

        _active.TryRemove(recording.RecordingId, out _);
    }

    /// <summary>
    /// Deletes the recordings of call <paramref name="resourceId"/> (every stream of it), or the one recording whose
    /// recording id it is. Returns how many were deleted; zero when there is nothing (left) to delete.
    /// </summary>
    public async Task<int> DeleteByCallOrRecordingIdAsync(string resourceId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(resourceId) || !System.IO.Directory.Exists(Folder))
        {
            return 0;
        }

        // The file name holds the call id made safe, so only a handful of sidecars are read; the sidecar's own
        // call id is what decides (two ids can make the same safe name).
        var candidates = Sidecars($"*_{SafeIdPart(resourceId)}_*").ToHashSet(StringComparer.Ordinal);
        if (IsRecordingIdShape(resourceId) && File.Exists(PathOf(resourceId, SidecarExtension)))
        {
            candidates.Add(PathOf(resourceId, SidecarExtension));
        }

        var deleted = 0;
        foreach (var path in candidates)
        {
            var recordingId = RecordingIdOf(path);
            var sidecar = await ReadSidecarAsync(path, cancellationToken);
            if (sidecar is not null
                && (string.Equals(sidecar.CallId, resourceId, StringComparison.Ordinal)
                    || string.Equals(recordingId, resourceId, StringComparison.Ordinal)))
            {
                Delete(recordingId);
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>
    /// Deletes every recording whose caller or callee is <paramref name="phoneNumber"/> (compared by digits, so
    /// <c>+1 415-555-0100</c> matches <c>+14155550100</c>). Reads every sidecar: erasure requests are rare.
    /// </summary>
    public async Task<int> DeleteByPhoneNumberAsync(string phoneNumber, CancellationToken cancellationToken)
    {
        var wanted = PhoneKey(phoneNumber);
        if (wanted.Length == 0 || !System.IO.Directory.Exists(Folder))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var path in Sidecars("*").ToList())
        {
            var sidecar = await ReadSidecarAsync(path, cancellationToken);
            if (sidecar is not null && (PhoneKey(sidecar.From) == wanted || PhoneKey(sidecar.To) == wanted))
            {
                Delete(RecordingIdOf(path));
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>
    /// A provider id as one part of a file name: ASCII letters, digits and dashes only, at most 64 characters. Anything
    /// else (a slash, a dot, an underscore, a long id) is replaced, and a hash of the original keeps ids that differ
    /// only in those characters apart.
    /// </summary>
    internal static string SafeIdPart(string id)
    {
        var safe = new StringBuilder(Math.Min(id.Length, MaxIdPartLength) + 9);
        var changed = id.Length is 0 or > MaxIdPartLength;
        foreach (var c in id.AsSpan(0, Math.Min(id.Length, MaxIdPartLength)))
        {
            var keep = char.IsAsciiLetterOrDigit(c) || c == '-';
            safe.Append(keep ? c : '-');
            changed |= !keep;
        }

        if (changed)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
            safe.Append('-').Append(Convert.ToHexStringLower(hash, 0, 4));
        }

        return safe.ToString();
    }

    /// <summary>What a phone number is compared by: its digits; a number with none (a SIP or client address) as written.</summary>
    internal static string PhoneKey(string? number)
    {
        if (string.IsNullOrWhiteSpace(number))
        {
            return string.Empty;
        }

        var digits = new string(number.Where(char.IsAsciiDigit).ToArray());
        return digits.Length > 0 ? digits : number.Trim();
    }

    internal static string ProviderName(TelephonyProvider provider) => provider == TelephonyProvider.Twilio ? "twilio" : "telnyx";

    /// <summary>The recording a sidecar belongs to, by its file name: what a sidecar says about itself never names a path.</summary>
    private static string RecordingIdOf(string sidecarPath)
    {
        var name = Path.GetFileName(sidecarPath);
        return name[..^(name.EndsWith(TemporaryExtension, StringComparison.Ordinal) ? TemporaryExtension.Length : SidecarExtension.Length)];
    }

    private void Delete(string recordingId)
    {
        if (_active.TryGetValue(recordingId, out var active))
        {
            lock (active.Gate)
            {
                active.MarkErased();
                DeleteFiles(recordingId);
            }
        }
        else
        {
            DeleteFiles(recordingId);
        }
    }

    private void DeleteFiles(string recordingId)
    {
        // File.Delete is a no-op for a file that is already gone, which makes deletion idempotent. The WAV of a live
        // recording is opened with FileShare.Delete, so it goes too; its writer notices and stops.
        File.Delete(PathOf(recordingId, AudioExtension));
        File.Delete(PathOf(recordingId, TemporaryExtension));
        File.Delete(PathOf(recordingId, SidecarExtension));
    }

    /// <summary>
    /// The sidecars whose file name matches, and the sidecars a crash left only half renamed (a temporary file with no
    /// sidecar beside it): those still hold the numbers an erasure request must find.
    /// </summary>
    private IEnumerable<string> Sidecars(string namePattern)
    {
        var options = new EnumerationOptions { MatchType = MatchType.Simple, IgnoreInaccessible = true, RecurseSubdirectories = false };
        var sidecars = System.IO.Directory.EnumerateFiles(Folder, namePattern + SidecarExtension, options);
        var orphans = System.IO.Directory.EnumerateFiles(Folder, namePattern + TemporaryExtension, options)
            .Where(temporary => !File.Exists(temporary[..^TemporaryExtension.Length] + SidecarExtension));
        return sidecars.Concat(orphans);
    }

    /// <summary>A sidecar, or null when it is gone or unreadable. Any other I/O failure throws, so the message is retried.</summary>
    private async Task<RecordingSidecar?> ReadSidecarAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return await JsonSerializer.DeserializeAsync<RecordingSidecar>(file, RecordingSidecar.JsonOptions, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            if (!path.EndsWith(TemporaryExtension, StringComparison.Ordinal))
            {
                LogUnreadableSidecar(_logger, Path.GetFileName(path));
            }

            return null;
        }
    }

    private void WriteSidecar(string recordingId, RecordingSidecar sidecar)
    {
        // Written aside and renamed over, so a reader (or a crash) never sees half a sidecar.
        var temporary = PathOf(recordingId, TemporaryExtension);
        using (var file = new FileStream(temporary, CreateOptions(FileMode.Create)))
        {
            JsonSerializer.Serialize(file, sidecar, RecordingSidecar.JsonOptions);
        }

        File.Move(temporary, PathOf(recordingId, SidecarExtension), overwrite: true);
    }

    private void EnsureFolder()
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Folder);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private string PathOf(string recordingId, string extension)
    {
        var path = Path.GetFullPath(Path.Combine(Folder, recordingId + extension));
        if (!string.Equals(Path.GetDirectoryName(path), Folder, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Recording id '{recordingId}' does not name a file in the recordings folder.");
        }

        return path;
    }

    private static bool IsRecordingIdShape(string id) =>
        id.Length is > 0 and <= 4 * MaxIdPartLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static FileStreamOptions CreateOptions(FileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read | FileShare.Delete,
            BufferSize = WriteBufferBytes,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Recordings are personal data: readable by this service's user only.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording sidecar {File} is not valid JSON; it was left alone and needs a look")]
    private static partial void LogUnreadableSidecar(ILogger logger, string file);
}

/// <summary>A recording being written: its WAV file and the sidecar it started with.</summary>
internal sealed class ActiveRecording(string recordingId, FileStream audio, RecordingSidecar sidecar)
{
    private volatile bool _erased;

    public string RecordingId { get; } = recordingId;

    public FileStream Audio { get; } = audio;

    public RecordingSidecar Sidecar { get; } = sidecar;

    /// <summary>Guards the sidecar against being rewritten after an erasure deleted it.</summary>
    public object Gate { get; } = new();

    /// <summary>Set by a deletion while the stream is still being recorded; the sink then stops and keeps nothing.</summary>
    public bool IsErased => _erased;

    public void MarkErased() => _erased = true;
}
