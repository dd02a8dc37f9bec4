using System.Collections.Frozen;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>
/// The events the outbox may hold, by a stable name (not the CLR type name, so that moving a type does not
/// strand rows written by the previous version).
/// </summary>
public static class OutboxMessageTypes
{
    private static readonly FrozenDictionary<string, Type> ByName = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [nameof(CallStateChanged)] = typeof(CallStateChanged),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<Type, string> ByType = ByName.ToFrozenDictionary(p => p.Value, p => p.Key);

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    public static OutboxMessage Create<T>(T message, DateTimeOffset createdAt) where T : class, IIntegrationEvent => new()
    {
        Id = message.EventId,
        Type = ByType.TryGetValue(typeof(T), out var name) ? name : throw new ArgumentException($"{typeof(T).Name} is not an outbox message type.", nameof(message)),
        Payload = JsonSerializer.Serialize(message, JsonOptions),
        CreatedAt = createdAt.ToUniversalTime(),
    };

    /// <summary>The event a row holds, and its type for publishing.</summary>
    public static (object Message, Type Type) Read(OutboxMessage row)
    {
        if (!ByName.TryGetValue(row.Type, out var type))
        {
            throw new InvalidOperationException($"Outbox message {row.Id} has the unknown type '{row.Type}'.");
        }

        var message = JsonSerializer.Deserialize(row.Payload, type, JsonOptions)
                      ?? throw new InvalidOperationException($"Outbox message {row.Id} has an empty payload.");
        return (message, type);
    }
}
