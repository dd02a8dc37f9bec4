namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// The replay guard's per-replica fallback: claimed keys for <c>ttl</c>, at most <c>capacity</c> of them
/// (the oldest claim goes first). Every claim lives equally long, so claim order is expiry order.
/// </summary>
internal sealed class MemoryReplaySet(int capacity, TimeSpan ttl)
{
    public const int DefaultCapacity = 100_000;

    private readonly Lock _sync = new();
    private readonly Dictionary<string, long> _expiries = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, long ExpiresAtTicks)> _order = new();

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _expiries.Count;
            }
        }
    }

    public bool TryClaim(string key, DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        lock (_sync)
        {
            Trim(nowTicks);
            if (_expiries.TryGetValue(key, out var expiresAt) && expiresAt > nowTicks)
            {
                return false;
            }

            while (_expiries.Count >= capacity && _order.Count > 0)
            {
                Forget(_order.Dequeue());
            }

            var expiry = nowTicks + ttl.Ticks;
            _expiries[key] = expiry;
            _order.Enqueue((key, expiry));
            return true;
        }
    }

    public void Release(string key)
    {
        lock (_sync)
        {
            // Its queue entry stays behind and is skipped when it comes up: it no longer matches.
            _expiries.Remove(key);
        }
    }

    private void Trim(long nowTicks)
    {
        while (_order.TryPeek(out var oldest) && oldest.ExpiresAtTicks <= nowTicks)
        {
            Forget(_order.Dequeue());
        }

        // Released keys leave entries in the queue; keep it from outgrowing the set.
        if (_order.Count > 2 * capacity)
        {
            var live = _order.Where(e => _expiries.TryGetValue(e.Key, out var x) && x == e.ExpiresAtTicks).ToArray();
            _order.Clear();
            foreach (var entry in live)
            {
                _order.Enqueue(entry);
            }
        }
    }

    private void Forget((string Key, long ExpiresAtTicks) entry)
    {
        if (_expiries.TryGetValue(entry.Key, out var expiresAt) && expiresAt == entry.ExpiresAtTicks)
        {
            _expiries.Remove(entry.Key);
        }
    }
}
