namespace ZeroPg.Security;

/// <summary>
/// Unpredictable numbers for what every server hands out (BackendKeyData's process ids and secret keys, the SCRAM mock nonce,
/// the engine host's cancel secret), from the OS's CSPRNG without OpenSSL. On Linux, RandomNumberGenerator is OpenSSL's
/// RAND_bytes: its first call loads and initializes libcrypto and libssl, ~4 MB of an idle server's RSS (it was made at the
/// start, for the mock nonce) that a server without TLS and passwords has no other use for. Guid.NewGuid takes its random bits
/// from the OS's CSPRNG on every platform (.NET 6 and later: getrandom or arc4random on Unix, BCrypt on Windows); a version 4
/// GUID's bytes 0-5 and 9-15 are random (6-8 hold the version and variant bits), of which this takes 8 per GUID.
/// TLS and password checks keep RandomNumberGenerator: they load OpenSSL anyway.
/// </summary>
internal static class OsRandom
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    public static void Fill(Span<byte> destination)
    {
        Span<byte> guid = stackalloc byte[16];
        while (!destination.IsEmpty)
        {
            Guid.NewGuid().TryWriteBytes(guid);
            var take = Math.Min(8, destination.Length);
            guid[..Math.Min(take, 4)].CopyTo(destination);
            if (take > 4)
                guid.Slice(12, take - 4).CopyTo(destination[4..]);
            destination = destination[take..];
        }
    }

    public static byte[] GetBytes(int count)
    {
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    /// <summary>A uniform integer in [<paramref name="fromInclusive"/>, <paramref name="toExclusive"/>), as RandomNumberGenerator.GetInt32.</summary>
    public static int GetInt32(int fromInclusive, int toExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fromInclusive, toExclusive);
        var range = (uint)(toExclusive - fromInclusive) - 1;
        if (range == 0)
            return fromInclusive;
        var mask = range;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        Span<byte> four = stackalloc byte[4];
        uint value;
        do
        {
            Fill(four);
            value = BitConverter.ToUInt32(four) & mask; // rejection sampling: no modulo bias
        }
        while (value > range);
        return (int)(fromInclusive + value);
    }

    public static int GetInt32(int toExclusive) => GetInt32(0, toExclusive);
}
