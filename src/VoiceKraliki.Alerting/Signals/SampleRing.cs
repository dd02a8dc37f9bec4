using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>The last <see cref="Capacity"/> samples of one series, oldest overwritten first. Thread-safe.</summary>
internal sealed class SampleRing(string signal, LabelSet labels, int capacity)
{
    private readonly long[] _ticks = new long[capacity];
    private readonly double[] _values = new double[capacity];
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public string Signal { get; } = signal;

    public LabelSet Labels { get; } = labels;

    public int Capacity => _ticks.Length;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public void Append(DateTimeOffset at, double value)
    {
        lock (_lock)
        {
            _ticks[_next] = at.UtcTicks;
            _values[_next] = value;
            _next = (_next + 1) % _ticks.Length;
            _count = Math.Min(_count + 1, _ticks.Length);
        }
    }

    /// <summary>The last <paramref name="max"/> samples, oldest first.</summary>
    public IReadOnlyList<SignalSample> Latest(int max)
    {
        lock (_lock)
        {
            var take = Math.Clamp(max, 0, _count);
            var samples = new SignalSample[take];
            for (var i = 0; i < take; i++)
            {
                samples[i] = At(Index(_count - take + i));
            }

            return samples;
        }
    }

    /// <summary>The samples taken in [<paramref name="from"/>, <paramref name="to"/>), in the order they were appended.</summary>
    public IReadOnlyList<SignalSample> Between(DateTimeOffset from, DateTimeOffset to)
    {
        var fromTicks = from.UtcTicks;
        var toTicks = to.UtcTicks;
        var samples = new List<SignalSample>();
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                var index = Index(i);
                if (_ticks[index] >= fromTicks && _ticks[index] < toTicks)
                {
                    samples.Add(At(index));
                }
            }
        }

        return samples;
    }

    /// <summary>The physical index of the <paramref name="logical"/>-th sample kept (0 = oldest).</summary>
    private int Index(int logical) => (_next - _count + logical + (2 * _ticks.Length)) % _ticks.Length;

    private SignalSample At(int index) => new(Signal, Labels, new DateTimeOffset(_ticks[index], TimeSpan.Zero), _values[index]);
}
