using System.Security.Cryptography;
using System.Text.Json;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>A small JSON object of generated secrets in the state folder, readable by root (or us) only.</summary>
internal static class SecretFile
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static T LoadOrCreate<T>(string path, Func<T, bool> needsUpdate, Func<T, T> complete) where T : class, new()
    {
        T current = new();
        if (File.Exists(path))
        {
            try
            {
                current = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? new T();
            }
            catch (JsonException)
            {
                current = new T();
            }
        }

        if (!needsUpdate(current))
        {
            return current;
        }

        var completed = complete(current);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(completed, Options));
        UnixFile.SetMode(temporary, UnixFile.OwnerOnly);
        File.Move(temporary, path, overwrite: true);
        return completed;
    }

    /// <summary>Random bytes as URL-safe base64 without padding (no characters that need escaping in a URI).</summary>
    public static string RandomToken(int bytes = 24) => Base64Url(RandomNumberGenerator.GetBytes(bytes));

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Passwords and ids of the local servers, generated once per state folder.</summary>
internal sealed class InfrastructureSecrets
{
    public string? PostgresPassword { get; set; }

    public string? RabbitMqPassword { get; set; }

    public string? RabbitMqNodeId { get; set; }

    public const string FileName = "infrastructure-credentials.json";

    public static InfrastructureSecrets LoadOrCreate(StateDirectory state) =>
        SecretFile.LoadOrCreate<InfrastructureSecrets>(
            state.Combine(FileName),
            s => s.PostgresPassword is null || s.RabbitMqPassword is null || s.RabbitMqNodeId is null,
            s => new InfrastructureSecrets
            {
                PostgresPassword = s.PostgresPassword ?? SecretFile.RandomToken(),
                RabbitMqPassword = s.RabbitMqPassword ?? SecretFile.RandomToken(),
                RabbitMqNodeId = s.RabbitMqNodeId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)),
            });
}
