using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>
/// An enum as the snake_case text the schema's CHECK constraints allow (<c>OnHold</c> is <c>on_hold</c>):
/// readable in SQL, and a renamed or reordered C# member cannot silently change stored values.
/// </summary>
public static class DbEnum<TEnum> where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<TEnum, string> Names =
        Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

    private static readonly FrozenDictionary<string, TEnum> Values =
        Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static string ToDb(TEnum value) =>
        Names.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a {typeof(TEnum).Name}.");

    public static TEnum FromDb(string value) =>
        Values.TryGetValue(value, out var parsed)
            ? parsed
            : throw new InvalidOperationException($"The database holds '{value}', which is not a {typeof(TEnum).Name}.");
}

/// <summary>The EF Core converter for <see cref="DbEnum{TEnum}"/>.</summary>
public sealed class DbEnumConverter<TEnum>() : ValueConverter<TEnum, string>(v => DbEnum<TEnum>.ToDb(v), s => DbEnum<TEnum>.FromDb(s))
    where TEnum : struct, Enum;
