namespace VoiceKraliki.Compliance.Extensions;

internal static class PostgresTime
{
    /// <summary>Postgres keeps microseconds: what we return is what a later read gives.</summary>
    public static DateTimeOffset Microseconds(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % 10, TimeSpan.Zero);
}
