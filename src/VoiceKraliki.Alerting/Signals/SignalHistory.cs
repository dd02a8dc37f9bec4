using System.Text.Json;
using Npgsql;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// One series over one minute: how many samples it had, their least, greatest and mean value, and the last one.
/// </summary>
/// <param name="Bucket">The minute's start (UTC, whole minute).</param>
public sealed record SignalHistoryPoint(
    string Signal,
    LabelSet Labels,
    DateTimeOffset Bucket,
    int Count,
    double Min,
    double Max,
    double Avg,
    double Last)
{
    public string Fingerprint => Labels.Fingerprint;
}

/// <summary>
/// The per-minute history of every series in Postgres (<c>signal_history</c>), written by
/// <see cref="SignalHistoryWriter"/> and read by the API.
/// </summary>
/// <remarks>
/// Every replica samples the same events (each has its own queue, <see cref="SignalEventsConsumerDefinition"/>), so
/// each writes nearly the same aggregate for a minute. Aggregates are never added together: a row is replaced only by
/// an aggregate of more samples (the replica that saw more of the minute, e.g. not one that started halfway through),
/// and a rewrite with as many samples changes nothing. So several replicas, a retry, or a catch-up after an outage
/// write each minute once, whatever their order.
/// </remarks>
public sealed class SignalHistory(NpgsqlDataSource dataSource)
{
    /// <summary>The most points <see cref="HistoryAsync"/> returns (the earliest); ask for a shorter range for more.</summary>
    public const int MaxPoints = 100_000;

    /// <summary>
    /// The minutes of <paramref name="signal"/> in [<paramref name="from"/>, <paramref name="to"/>), of each series whose
    /// labels include <paramref name="labels"/> (every series when null), ordered by minute and then series.
    /// </summary>
    public async Task<IReadOnlyList<SignalHistoryPoint>> HistoryAsync(
        string signal, DateTimeOffset from, DateTimeOffset to, LabelSet? labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(signal);
        await using var command = dataSource.CreateCommand(
            $"""
             SELECT signal, labels::text, bucket, sample_count, min_value, max_value, avg_value, last_value
             FROM signal_history
             WHERE signal = @signal AND bucket >= @from AND bucket < @to{(labels is { Count: > 0 } ? " AND labels @> @labels::jsonb" : "")}
             ORDER BY bucket, fingerprint
             LIMIT {MaxPoints}
             """);
        command.Parameters.AddWithValue("signal", signal);
        command.Parameters.AddWithValue("from", from.ToUniversalTime());
        command.Parameters.AddWithValue("to", to.ToUniversalTime());
        if (labels is { Count: > 0 })
        {
            command.Parameters.AddWithValue("labels", JsonSerializer.Serialize(labels));
        }

        var points = new List<SignalHistoryPoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            points.Add(new SignalHistoryPoint(
                reader.GetString(0),
                JsonSerializer.Deserialize<LabelSet>(reader.GetString(1)) ?? LabelSet.Empty,
                reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetInt32(3),
                reader.GetDouble(4),
                reader.GetDouble(5),
                reader.GetDouble(6),
                reader.GetDouble(7)));
        }

        return points;
    }

    /// <summary>
    /// Writes the minutes: new ones are inserted, a kept one is replaced only by an aggregate of more samples.
    /// </summary>
    /// <returns>How many rows were inserted or replaced.</returns>
    public async Task<int> WriteAsync(IReadOnlyCollection<SignalHistoryPoint> points, string writtenBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
        {
            return 0;
        }

        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO signal_history AS h
                (signal, fingerprint, bucket, labels, sample_count, min_value, max_value, avg_value, last_value, written_by)
            SELECT t.signal, t.fingerprint, t.bucket, t.labels::jsonb, t.sample_count, t.min_value, t.max_value, t.avg_value, t.last_value, @written_by
            FROM unnest(@signals, @fingerprints, @buckets, @labels, @counts, @mins, @maxs, @avgs, @lasts)
                AS t(signal, fingerprint, bucket, labels, sample_count, min_value, max_value, avg_value, last_value)
            ON CONFLICT (signal, fingerprint, bucket) DO UPDATE SET
                labels = EXCLUDED.labels,
                sample_count = EXCLUDED.sample_count,
                min_value = EXCLUDED.min_value,
                max_value = EXCLUDED.max_value,
                avg_value = EXCLUDED.avg_value,
                last_value = EXCLUDED.last_value,
                written_by = EXCLUDED.written_by,
                written_at = now()
            WHERE EXCLUDED.sample_count > h.sample_count
            """);
        command.Parameters.AddWithValue("written_by", writtenBy);
        command.Parameters.AddWithValue("signals", points.Select(p => p.Signal).ToArray());
        command.Parameters.AddWithValue("fingerprints", points.Select(p => p.Fingerprint).ToArray());
        command.Parameters.AddWithValue("buckets", points.Select(p => p.Bucket.ToUniversalTime()).ToArray());
        command.Parameters.AddWithValue("labels", points.Select(p => JsonSerializer.Serialize(p.Labels)).ToArray());
        command.Parameters.AddWithValue("counts", points.Select(p => p.Count).ToArray());
        command.Parameters.AddWithValue("mins", points.Select(p => p.Min).ToArray());
        command.Parameters.AddWithValue("maxs", points.Select(p => p.Max).ToArray());
        command.Parameters.AddWithValue("avgs", points.Select(p => p.Avg).ToArray());
        command.Parameters.AddWithValue("lasts", points.Select(p => p.Last).ToArray());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes the minutes before <paramref name="before"/>.</summary>
    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM signal_history WHERE bucket < @before");
        command.Parameters.AddWithValue("before", before.ToUniversalTime());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The per-minute aggregates of the samples in [<paramref name="from"/>, <paramref name="to"/>) (whole minutes) of
    /// each series; minutes without samples have none.
    /// </summary>
    internal static IReadOnlyList<SignalHistoryPoint> Aggregate(IEnumerable<SampleRing> series, DateTimeOffset from, DateTimeOffset to)
    {
        var points = new List<SignalHistoryPoint>();
        foreach (var ring in series)
        {
            foreach (var minute in ring.Between(from, to).GroupBy(s => MinuteOf(s.At)).OrderBy(g => g.Key))
            {
                var count = 0;
                double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
                SignalSample? last = null;
                foreach (var sample in minute)
                {
                    count++;
                    min = Math.Min(min, sample.Value);
                    max = Math.Max(max, sample.Value);
                    sum += sample.Value;
                    if (last is null || sample.At >= last.At)
                    {
                        last = sample;
                    }
                }

                points.Add(new SignalHistoryPoint(ring.Signal, ring.Labels, minute.Key, count, min, max, sum / count, last!.Value));
            }
        }

        return points;
    }

    /// <summary>The start of the minute <paramref name="at"/> is in, in UTC.</summary>
    internal static DateTimeOffset MinuteOf(DateTimeOffset at)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
    }
}
