using System.Globalization;

namespace ZeroPg.Storage.Backup.Wal;

/// <summary>A position in the write-ahead log (Postgres's XLogRecPtr), printed as Postgres does: "16/B374D848".</summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static readonly Lsn Invalid = new(0);

    public bool IsValid => Value != 0;

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;
    public static Lsn operator +(Lsn a, long bytes) => new((ulong)((long)a.Value + bytes));
    public static long operator -(Lsn a, Lsn b) => (long)(a.Value - b.Value);

    public static Lsn Max(Lsn a, Lsn b) => a >= b ? a : b;
    public static Lsn Min(Lsn a, Lsn b) => a <= b ? a : b;

    public override string ToString() => $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}";

    /// <summary>Sixteen hex digits: sorts like the position, used in object names.</summary>
    public string ToKey() => Value.ToString("X16", CultureInfo.InvariantCulture);

    public static Lsn Parse(string text)
    {
        if (TryParse(text, out var lsn))
            return lsn;
        throw new FormatException($"\"{text}\" is not a WAL position (expected e.g. 0/16B3748).");
    }

    public static bool TryParse(string? text, out Lsn lsn)
    {
        lsn = Invalid;
        if (string.IsNullOrEmpty(text))
            return false;
        var slash = text.IndexOf('/');
        if (slash < 0)
        {
            if (text.Length != 16 || !ulong.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var raw))
                return false;
            lsn = new Lsn(raw);
            return true;
        }
        if (!uint.TryParse(text.AsSpan(0, slash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var low))
            return false;
        lsn = new Lsn(((ulong)high << 32) | low);
        return true;
    }
}
