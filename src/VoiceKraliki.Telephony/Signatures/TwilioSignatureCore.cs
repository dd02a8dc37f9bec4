using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// The one place that builds Twilio's string to sign and HMACs it; the signer and the validator both
/// come through here so they cannot drift apart.
/// </summary>
internal static class TwilioSignatureCore
{
    /// <summary>Length of Base64(HMAC-SHA1): 20 bytes always encode to 28 characters.</summary>
    internal const int SignatureLength = 28;

    /// <summary>
    /// Upper bound on the string to sign. Twilio's URLs and form posts are a few KiB; anything near this
    /// is hostile, and refusing it keeps a forged request from making us hash megabytes several times.
    /// </summary>
    internal const int MaxMessageBytes = 4 * 1024 * 1024;

    private const int StackBufferBytes = 2048;

    internal static string Compute(ReadOnlySpan<byte> key, string url, IEnumerable<KeyValuePair<string, string>> formFields)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(formFields);

        var pooled = RentSortedCopy(formFields, out var count);
        try
        {
            var fields = pooled.AsSpan(0, count);
            var urlBytes = url.Length <= MaxMessageBytes ? (long)Encoding.UTF8.GetByteCount(url) : long.MaxValue;
            var total = urlBytes + CountFieldBytes(fields);
            if (total > MaxMessageBytes)
            {
                throw new ArgumentException($"The URL and form fields exceed {MaxMessageBytes} bytes.", nameof(formFields));
            }

            byte[]? rented = null;
            Span<byte> buffer = total <= StackBufferBytes
                ? stackalloc byte[StackBufferBytes]
                : (rented = ArrayPool<byte>.Shared.Rent((int)total));
            try
            {
                var written = Encoding.UTF8.GetBytes(url, buffer);
                written += WriteFields(fields, buffer[written..]);
                Span<char> signature = stackalloc char[SignatureLength];
                Sign(key, buffer[..written], signature);
                return new string(signature);
            }
            finally
            {
                ReturnCleared(rented);
            }
        }
        finally
        {
            ReturnSortedCopy(pooled);
        }
    }

    /// <summary>
    /// True when <paramref name="signature"/> matches the URL as given, its port variant, or (when the
    /// query holds an apostrophe) the same URLs with the apostrophe escaped or unescaped.
    /// Never throws.
    /// </summary>
    internal static bool Matches(ReadOnlySpan<byte> key, string url, IReadOnlyList<KeyValuePair<string, string>> formFields, string signature)
    {
        if (signature.Length != SignatureLength || url.Length > MaxMessageBytes)
        {
            return false;
        }

        var pooled = RentSortedCopy(formFields, out var count);
        try
        {
            var fields = pooled.AsSpan(0, count);
            long urlBytes = Encoding.UTF8.GetByteCount(url);
            var apostrophes = url.AsSpan().Count('\'');

            // Layout: [the URL as given][room for the longest candidate URL][the fields]. Each candidate is
            // written so that it ends where the fields begin, and the HMAC runs over one contiguous span.
            var candidateRoom = urlBytes + (2L * apostrophes) + TwilioUrlVariants.MaxGrowth;
            var total = urlBytes + candidateRoom + CountFieldBytes(fields);
            if (total > MaxMessageBytes)
            {
                return false;
            }

            byte[]? rented = null;
            Span<byte> buffer = total <= StackBufferBytes
                ? stackalloc byte[StackBufferBytes]
                : (rented = ArrayPool<byte>.Shared.Rent((int)total));
            try
            {
                var given = buffer[..(int)urlBytes];
                Encoding.UTF8.GetBytes(url, given);
                var fieldsStart = (int)(urlBytes + candidateRoom);
                var fieldsLength = WriteFields(fields, buffer[fieldsStart..]);

                var variants = TwilioUrlVariants.Parse(given);
                Span<char> computed = stackalloc char[SignatureLength];
                for (var candidate = TwilioUrlVariants.FirstCandidate; candidate <= TwilioUrlVariants.LastCandidate; candidate++)
                {
                    if (!variants.Offers(candidate))
                    {
                        continue;
                    }

                    var length = variants.Length(candidate);
                    var start = fieldsStart - length;
                    variants.Write(candidate, buffer.Slice(start, length));
                    Sign(key, buffer.Slice(start, length + fieldsLength), computed);
                    if (FixedTimeEquals(computed, signature))
                    {
                        return true;
                    }
                }

                return false;
            }
            finally
            {
                ReturnCleared(rented);
            }
        }
        finally
        {
            ReturnSortedCopy(pooled);
        }
    }

    private static void Sign(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<char> destination)
    {
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
        HMACSHA1.HashData(key, message, hash);
        Convert.TryToBase64Chars(hash, destination, out _);
    }

    private static bool FixedTimeEquals(ReadOnlySpan<char> computed, string provided) =>
        CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(computed),
            MemoryMarshal.AsBytes(provided.AsSpan()));

    private static KeyValuePair<string, string>[] RentSortedCopy(IEnumerable<KeyValuePair<string, string>> fields, out int count)
    {
        KeyValuePair<string, string>[] pooled;
        switch (fields)
        {
            case IReadOnlyList<KeyValuePair<string, string>> list:
                count = list.Count;
                pooled = Rent(count);
                for (var i = 0; i < count; i++)
                {
                    pooled[i] = list[i];
                }

                break;
            case ICollection<KeyValuePair<string, string>> collection:
                count = collection.Count;
                pooled = Rent(count);
                collection.CopyTo(pooled, 0);
                break;
            default:
                var copy = fields.ToArray();
                count = copy.Length;
                pooled = Rent(count);
                copy.CopyTo(pooled, 0);
                break;
        }

        Sort(pooled.AsSpan(0, count));
        return pooled;

        static KeyValuePair<string, string>[] Rent(int size) =>
            size == 0 ? [] : ArrayPool<KeyValuePair<string, string>>.Shared.Rent(size);
    }

    /// <summary>
    /// Span.Sort wraps the comparer in a delegate (two allocations per request); a webhook's dozen or two fields
    /// sort faster by insertion anyway. Larger lists, which only a hostile sender makes, take the O(n log n) path.
    /// </summary>
    private static void Sort(Span<KeyValuePair<string, string>> fields)
    {
        const int InsertionSortLimit = 48;
        if (fields.Length > InsertionSortLimit)
        {
            fields.Sort(default(FieldOrder));
            return;
        }

        var order = default(FieldOrder);
        for (var i = 1; i < fields.Length; i++)
        {
            var current = fields[i];
            var j = i - 1;
            while (j >= 0 && order.Compare(fields[j], current) > 0)
            {
                fields[j + 1] = fields[j];
                j--;
            }

            fields[j + 1] = current;
        }
    }

    private static void ReturnSortedCopy(KeyValuePair<string, string>[] pooled)
    {
        if (pooled.Length > 0)
        {
            ArrayPool<KeyValuePair<string, string>>.Shared.Return(pooled, clearArray: true);
        }
    }

    private static void ReturnCleared(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    private static long CountFieldBytes(ReadOnlySpan<KeyValuePair<string, string>> sorted)
    {
        long total = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && FieldOrder.Same(sorted[i - 1], sorted[i]))
            {
                continue;
            }

            total += Encoding.UTF8.GetByteCount(sorted[i].Key ?? string.Empty);
            total += Encoding.UTF8.GetByteCount(sorted[i].Value ?? string.Empty);
        }

        return total;
    }

    private static int WriteFields(ReadOnlySpan<KeyValuePair<string, string>> sorted, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            // The official SDKs sign a repeated key+value pair once.
            if (i > 0 && FieldOrder.Same(sorted[i - 1], sorted[i]))
            {
                continue;
            }

            written += Encoding.UTF8.GetBytes(sorted[i].Key ?? string.Empty, destination[written..]);
            written += Encoding.UTF8.GetBytes(sorted[i].Value ?? string.Empty, destination[written..]);
        }

        return written;
    }

    /// <summary>Ordinal by key, then ordinal by value: the order Twilio concatenates pairs in.</summary>
    private readonly struct FieldOrder : IComparer<KeyValuePair<string, string>>
    {
        public int Compare(KeyValuePair<string, string> x, KeyValuePair<string, string> y)
        {
            var byKey = string.CompareOrdinal(x.Key ?? string.Empty, y.Key ?? string.Empty);
            return byKey != 0 ? byKey : string.CompareOrdinal(x.Value ?? string.Empty, y.Value ?? string.Empty);
        }

        public static bool Same(KeyValuePair<string, string> x, KeyValuePair<string, string> y) =>
            string.Equals(x.Key ?? string.Empty, y.Key ?? string.Empty, StringComparison.Ordinal)
            && string.Equals(x.Value ?? string.Empty, y.Value ?? string.Empty, StringComparison.Ordinal);
    }
}
