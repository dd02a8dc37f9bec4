namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// Sums of a few numbers over the last <c>n</c> seconds, in one-second buckets reused as time moves on: adding is O(1),
/// summing is O(n), memory is fixed. A bucket is stamped with the second it holds; a stale stamp means the bucket is
/// empty. Thread-safe.
/// </summary>
internal sealed class SlidingWindow
{
    private readonly long[] _seconds;
    private readonly double[] _values;
    private readonly int _fields;
    private readonly Lock _lock = new();

    public SlidingWindow(TimeSpan window, int fields)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(fields, 1);
        Length = (int)Math.Ceiling(window.TotalSeconds);
        _fields = fields;
        _seconds = new long[Length];
        Array.Fill(_seconds, long.MinValue);
        _values = new double[Length * fields];
    }

    /// <summary>The window in whole seconds (= buckets).</summary>
    public int Length { get; }

    public int Fields => _fields;

    /// <summary>
    /// Adds <paramref name="amounts"/> (one per field) to the bucket of <paramref name="second"/> (Unix seconds). Returns
    /// false when that second is older than the window already moved past (its bucket holds a later second).
    /// </summary>
    public bool Add(long second, ReadOnlySpan<double> amounts)
    {
        var slot = (int)(((second % Length) + Length) % Length);
        var offset = slot * _fields;
        lock (_lock)
        {
            var held = _seconds[slot];
            if (held > second)
            {
                return false;
            }

            if (held < second)
            {
                _seconds[slot] = second;
                Array.Clear(_values, offset, _fields);
            }

            for (var i = 0; i < _fields && i < amounts.Length; i++)
            {
                _values[offset + i] += amounts[i];
            }

            return true;
        }
    }

    /// <summary>Sums each field over the seconds (<paramref name="nowSecond"/> − <see cref="Length"/>, <paramref name="nowSecond"/>].</summary>
    public void Sum(long nowSecond, Span<double> into)
    {
        into.Clear();
        var oldest = nowSecond - Length;
        lock (_lock)
        {
            for (var slot = 0; slot < Length; slot++)
            {
                var held = _seconds[slot];
                if (held <= oldest || held > nowSecond)
                {
                    continue;
                }

                var offset = slot * _fields;
                for (var i = 0; i < _fields && i < into.Length; i++)
                {
                    into[i] += _values[offset + i];
                }
            }
        }
    }
}
