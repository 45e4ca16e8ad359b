using System.Globalization;
using System.Text;
using ZeroPg.Engine;
using ZeroPg.Sql;

namespace ZeroPg.Databases;

/// <summary>
/// The server's databases as a client's catalog reads must see them, whichever database it is connected to: its engine's
/// cluster holds postgres, template0, template1 and its own database only, so ZeroPg supplies the others to the SQL it
/// rewrites (<see cref="SqlEdit.DatabasesSql"/>, <see cref="SqlEdit"/>'s database calls): pg_database rows, the names and
/// oids pg_database_size / has_database_privilege may be given, and their sizes. template1 is left to each cluster's own
/// (every cluster has it). Sizes are read by <see cref="RefreshSizesAsync"/> and kept (<see cref="_gate"/> owns them).
/// </summary>
internal sealed class DatabaseListing(Func<IReadOnlyList<DatabaseEntry>> entries)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long?> _sizes = new(StringComparer.Ordinal);

    /// <summary>The databases a client of <paramref name="current"/> cannot see in its engine's cluster (postgres only from another database).</summary>
    private IEnumerable<DatabaseEntry> Others(string current, bool withPrimary)
        => entries().Where(e => e.Name != current && e.Name != DatabaseCatalog.TemplateOne && (withPrimary || e.Name != DatabaseSite.PrimaryName));

    /// <summary>pg_database rows (oid, datname) of the databases other than postgres, template1 and <paramref name="current"/>, as SQL VALUES rows; empty when none.</summary>
    public string Rows(string current)
    {
        var rows = new StringBuilder();
        foreach (var entry in Others(current, withPrimary: false).OrderBy(e => e.Oid))
        {
            rows.Append(rows.Length == 0 ? "" : ", ").Append('(').Append(Oid(entry)).Append("::pg_catalog.oid, ")
                .Append(SqlEdit.Literal(entry.Name)).Append("::pg_catalog.name)");
        }
        return rows.ToString();
    }

    /// <summary>The names and oids (as text) a client of <paramref name="current"/> may give pg_database_size / has_database_privilege for another database, as an SQL text[].</summary>
    public string Keys(string current)
    {
        var keys = new StringBuilder();
        foreach (var entry in Others(current, withPrimary: true))
            keys.Append(keys.Length == 0 ? "" : ", ").Append(SqlEdit.Literal(entry.Name)).Append(", '").Append(Oid(entry)).Append('\'');
        return "ARRAY[" + keys + "]::pg_catalog.text[]";
    }

    /// <summary>Their sizes as last read, as SQL VALUES rows (key text, bytes int8), by name and by oid; NULL when unknown.</summary>
    public string SizeRows(string current)
    {
        var rows = new StringBuilder();
        foreach (var entry in Others(current, withPrimary: true))
        {
            long? size;
            lock (_gate)
                size = _sizes.GetValueOrDefault(entry.Name);
            var bytes = size is { } known ? known.ToString(CultureInfo.InvariantCulture) : "NULL";
            foreach (var key in (string[])[SqlEdit.Literal(entry.Name), "'" + Oid(entry) + "'"])
                rows.Append(rows.Length == 0 ? "" : ", ").Append('(').Append(key).Append("::pg_catalog.text, ").Append(bytes).Append("::pg_catalog.int8)");
        }
        return rows.ToString();
    }

    /// <summary>
    /// Reads the sizes of the databases other than <paramref name="current"/> (pg_database_size of another database, psql's \l+), as
    /// Postgres counts them (the files of base/&lt;oid&gt;): a running engine sums them in its own filesystem between two batches (the
    /// host's 'databaseSize': no SQL, no engine lease, so never waiting for a client), a stopped one's are summed here.
    /// </summary>
    public async Task RefreshSizesAsync(string current, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Others(current, withPrimary: true).Select(async entry =>
        {
            var bytes = await SizeAsync(entry, cancellationToken);
            lock (_gate)
                _sizes[entry.Name] = bytes;
        }));
    }

    private static async Task<long?> SizeAsync(DatabaseEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            if (entry.RunningServices is { Engine.IsReady: true } services)
            {
                var answer = await (await services.Engine.GetAsync()).ControlAsync(new DatabaseSizeControl(entry.Site.EngineOid))
                    .WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                return answer.TryGetProperty("bytes", out var value) ? value.GetInt64() : null;
            }
            if (entry.Site.IsMemory)
                return entry.Site.Seed is { } seed ? SizeInTar(seed, entry.Site.EngineOid) : null; // asleep: the tar it starts from
            var folder = new DirectoryInfo(Path.Combine(entry.Site.DataDirectory, "base", entry.Site.EngineOid.ToString(CultureInfo.InvariantCulture)));
            return folder.Exists ? folder.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : null;
        }
        catch (Exception error) when (error is EngineFailedException or TimeoutException or IOException or InvalidOperationException or InvalidDataException or FormatException)
        {
            return null; // unknown this time: the client gets NULL
        }
    }

    /// <summary>The bytes of base/&lt;oid&gt;'s files in a cluster's tar (its headers read, its data skipped).</summary>
    private static long SizeInTar(string tar, uint oid)
    {
        var folder = $"base/{oid.ToString(CultureInfo.InvariantCulture)}/";
        using var stream = File.OpenRead(tar);
        using var reader = new System.Formats.Tar.TarReader(stream);
        long bytes = 0;
        while (reader.GetNextEntry() is { } entry)
        {
            // A path relative to the data directory, or (PGlite's dumps) under one folder of its own.
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            var at = name.IndexOf(folder, StringComparison.Ordinal);
            if (entry.EntryType is System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile
                && (at == 0 || (at > 0 && name.IndexOf('/') == at - 1)))
                bytes += entry.Length;
        }
        return bytes;
    }

    private static string Oid(DatabaseEntry entry) => entry.Oid.ToString(CultureInfo.InvariantCulture);
}
