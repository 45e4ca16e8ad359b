using System.Globalization;

namespace ZeroPg.Replication;

/// <summary>A WAL position, printed and parsed the way Postgres does (<c>16/B374D848</c>).</summary>
internal readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static readonly Lsn Invalid = new(0);

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);
    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    public override string ToString()
        => $"{(Value >> 32).ToString("X", CultureInfo.InvariantCulture)}/{(Value & 0xFFFFFFFF).ToString("X", CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>hi/lo</c> (1-8 hex digits each), as pg_lsn_in does.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Lsn lsn)
    {
        lsn = Invalid;
        var slash = text.IndexOf('/');
        if (slash < 1 || slash > 8 || text.Length - slash - 1 is < 1 or > 8) return false;
        if (!uint.TryParse(text[..slash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hi)) return false;
        if (!uint.TryParse(text[(slash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lo)) return false;
        lsn = new Lsn(((ulong)hi << 32) | lo);
        return true;
    }
}
