using System.Globalization;
using System.Text.RegularExpressions;

namespace ZeroPg.Replication.Walsender;

/// <summary>
/// logical_decoding_work_mem for a walsender's stream, which Postgres reads from the walsender's own session: a value the
/// client gave (startup <c>options=-c logical_decoding_work_mem=...</c>, or a SET on the replication connection) else the
/// server's default. The engine's current value cannot stand for the session's here: the stream's reads run between other
/// clients' units, under whatever settings the last one left, so the default is the engine's reset value.
/// </summary>
internal static partial class DecodingWorkMem
{
    public const string Name = "logical_decoding_work_mem";

    /// <summary>The server's default, in kB (a SET changes the setting, not the reset value).</summary>
    public const string DefaultSql = "SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'logical_decoding_work_mem'";

    /// <summary>A memory setting as Postgres reads it (a bare number is kB) in bytes; Postgres's default when unreadable
    /// (the engine checked the value when it was set).</summary>
    public static long Bytes(string? setting)
    {
        var match = setting is null ? null : Setting().Match(setting);
        if (match is not { Success: true } || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            return StreamedTransaction.DefaultWorkMemBytes;
        return amount * match.Groups[2].Value switch
        {
            "B" => 1L,
            "MB" => 1L << 20,
            "GB" => 1L << 30,
            "TB" => 1L << 40,
            _ => 1L << 10,
        };
    }

    [GeneratedRegex(@"^\s*(\d+)\s*(B|kB|MB|GB|TB)?\s*$")]
    private static partial Regex Setting();
}
