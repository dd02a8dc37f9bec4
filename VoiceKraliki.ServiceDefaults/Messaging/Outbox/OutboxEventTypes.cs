using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>
/// The events a service's outbox may hold, by a stable name stored in <c>outbox_messages.type</c> (not the CLR
/// type's full name, so that moving a type to another namespace does not strand rows written by the previous
/// version). Built once by <c>AddOutbox</c>; a singleton.
/// </summary>
public sealed class OutboxEventTypes
{
    private readonly FrozenDictionary<string, Type> _byName;
    private readonly FrozenDictionary<Type, string> _byType;

    internal OutboxEventTypes(IReadOnlyDictionary<string, Type> byName)
    {
        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _byType = _byName.ToFrozenDictionary(p => p.Value, p => p.Key);
    }

    /// <summary>How payloads are written and read: <see cref="JsonSerializerDefaults.Web"/> (camelCase names).</summary>
    public static JsonSerializerOptions JsonOptions => JsonSerializerOptions.Web;

    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>The stable name of <paramref name="type"/>; throws when it was not added.</summary>
    public string NameOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return _byType.TryGetValue(type, out var name)
            ? name
            : throw new ArgumentException($"{type.Name} is not an outbox event type; add it in AddOutbox.", nameof(type));
    }

    public bool TryGetType(string name, [NotNullWhen(true)] out Type? type) => _byName.TryGetValue(name, out type);

    /// <summary>The event a row holds, and its type for publishing.</summary>
    public (object Message, Type Type) Read(OutboxMessageRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (!_byName.TryGetValue(row.Type, out var type))
        {
            throw new InvalidOperationException($"Outbox message {row.Id} has the unknown type '{row.Type}'.");
        }

        var message = JsonSerializer.Deserialize(row.Payload, type, JsonOptions)
                      ?? throw new InvalidOperationException($"Outbox message {row.Id} has an empty payload.");
        return (message, type);
    }
}

/// <summary>What <c>AddOutbox(types =&gt; types.Add&lt;CallStateChanged&gt;())</c> configures.</summary>
public sealed class OutboxEventTypesBuilder
{
    private readonly Dictionary<string, Type> _byName = new(StringComparer.Ordinal);

    /// <summary>
    /// Lets the outbox hold <typeparamref name="T"/>, under <paramref name="name"/> (the type's name by default).
    /// Renaming the type later: pass its old name here, or rows still unpublished become unreadable.
    /// </summary>
    public OutboxEventTypesBuilder Add<T>(string? name = null) where T : class, IIntegrationEvent
    {
        var type = typeof(T);
        name ??= type.Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_byName.TryGetValue(name, out var existing))
        {
            return existing == type
                ? this
                : throw new ArgumentException($"The outbox name '{name}' is taken by {existing.FullName}; give {type.FullName} another.", nameof(name));
        }

        if (_byName.FirstOrDefault(p => p.Value == type) is { Key: { } other })
        {
            throw new ArgumentException($"{type.FullName} is already in the outbox as '{other}'.", nameof(name));
        }

        _byName.Add(name, type);
        return this;
    }

    internal OutboxEventTypes Build() => new(_byName);
}
