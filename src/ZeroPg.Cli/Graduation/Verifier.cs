using System.Globalization;
using Npgsql;

namespace ZeroPg.Cli.Graduation;

/// <summary>One line of the verification: a table, a sequence or the object inventory, on both sides.</summary>
internal sealed record VerifiedItem(string Kind, string Name, string? Source, string? Target, bool Equal, long Rows = 0);

/// <summary>
/// Compares a source database with its copy: every table's row count and a checksum of its rows,
/// every sequence's value, and the names of the objects (relations, indexes, functions, types,
/// triggers, constraints, policies, schemas), extension members left out.
/// </summary>
/// <remarks>
/// The checksum is computed by the same SQL on both sides: the sum of the first 60 bits of
/// md5(row::text) over all rows, order-independent. Both sessions first set the settings that
/// change how values print (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output,
/// lc_monetary), so the same rows print the same on PostgreSQL 15 and 18.
/// </remarks>
internal static class Verifier
{
    private const string SessionSettings =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; " +
        "SET bytea_output = 'hex'; SET lc_monetary = 'C'; SET search_path = ''";

    private const string UserObject = "{0} >= 16384 AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = '{1}'::regclass AND d.objid = {0} AND d.deptype = 'e')";

    public static async Task<List<VerifiedItem>> CompareAsync(NpgsqlConnection source, NpgsqlConnection target, ProgressLog log, CancellationToken cancellationToken)
    {
        await ExecuteAsync(source, SessionSettings, cancellationToken);
        await ExecuteAsync(target, SessionSettings, cancellationToken);
        var items = new List<VerifiedItem>();

        var sourceTables = await TablesAsync(source, cancellationToken);
        var targetTables = (await TablesAsync(target, cancellationToken)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, kind) in sourceTables)
        {
            var from = kind == 'm' ? name : $"ONLY {name}";
            var query = $"SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text FROM {from} t";
            var (sourceRows, sourceSum) = await CountAsync(source, query, cancellationToken);
            if (!targetTables.Contains(name))
            {
                items.Add(new VerifiedItem("table", name, Describe(sourceRows), "missing", false, sourceRows));
                continue;
            }
            var (targetRows, targetSum) = await CountAsync(target, query, cancellationToken);
            items.Add(new VerifiedItem(kind == 'm' ? "matview" : "table", name, Describe(sourceRows), Describe(targetRows),
                sourceRows == targetRows && sourceSum == targetSum, sourceRows));
            if (sourceRows > 100_000)
                log.Progress($"verified {name} ({sourceRows:N0} rows)");
        }

        foreach (var sequence in await SequencesAsync(source, cancellationToken))
        {
            var query = $"SELECT last_value, is_called FROM {sequence}";
            var sourceValue = await SequenceValueAsync(source, query, cancellationToken);
            string? targetValue;
            try
            {
                targetValue = await SequenceValueAsync(target, query, cancellationToken);
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                targetValue = "missing";
            }
            items.Add(new VerifiedItem("sequence", sequence, sourceValue, targetValue, sourceValue == targetValue));
        }

        var sourceObjects = await InventoryAsync(source, cancellationToken);
        var targetObjects = await InventoryAsync(target, cancellationToken);
        var missing = sourceObjects.Except(targetObjects).Order(StringComparer.Ordinal).ToList();
        var extra = targetObjects.Except(sourceObjects).Order(StringComparer.Ordinal).ToList();
        items.Add(new VerifiedItem("objects", "schema objects", sourceObjects.Count.ToString(CultureInfo.InvariantCulture),
            targetObjects.Count.ToString(CultureInfo.InvariantCulture), missing.Count == 0 && extra.Count == 0));
        items.AddRange(missing.Select(m => new VerifiedItem("object", m, "present", "missing", false)));
        items.AddRange(extra.Select(m => new VerifiedItem("object", m, "absent", "extra", false)));
        return items;
    }

    private static string Describe(long rows) => rows.ToString("N0", CultureInfo.InvariantCulture) + " rows";

    private static async Task<List<(string Name, char Kind)>> TablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var query = $"""
            SELECT format('%I.%I', n.nspname, c.relname), c.relkind
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND NOT (c.relkind = 'm' AND NOT c.relispopulated)
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
              AND {string.Format(CultureInfo.InvariantCulture, UserObject, "c.oid", "pg_catalog.pg_class")}
            ORDER BY 1
            """;
        var tables = new List<(string, char)>();
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            tables.Add((reader.GetString(0), reader.GetChar(1)));
        return tables;
    }

    private static async Task<List<string>> SequencesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var query = $"""
            SELECT format('%I.%I', n.nspname, c.relname)
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND {string.Format(CultureInfo.InvariantCulture, UserObject, "c.oid", "pg_catalog.pg_class")}
            ORDER BY 1
            """;
        var names = new List<string>();
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>"kind name" for every user object outside extensions, named the same way on every version.</summary>
    private static async Task<HashSet<string>> InventoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        string User(string oid, string catalog) => string.Format(CultureInfo.InvariantCulture, UserObject, oid, catalog);
        var query = $"""
            SELECT 'schema ' || quote_ident(nspname) FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND {User("oid", "pg_catalog.pg_namespace")}
            UNION ALL
            SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'partitioned table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '
                   WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table ' WHEN 'c' THEN 'composite type ' ELSE 'index ' END || c.oid::regclass::text
            FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c', 'i', 'I') AND c.relnamespace::regnamespace::text !~ '^pg_(toast|temp)' AND {User("c.oid", "pg_catalog.pg_class")}
            UNION ALL
            SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END || p.oid::regprocedure::text
            FROM pg_catalog.pg_proc p WHERE {User("p.oid", "pg_catalog.pg_proc")}
            UNION ALL
            SELECT 'type ' || t.oid::regtype::text FROM pg_catalog.pg_type t
            WHERE t.typtype IN ('e', 'd', 'r', 'm') AND {User("t.oid", "pg_catalog.pg_type")}
            UNION ALL
            SELECT 'trigger ' || quote_ident(tgname) || ' on ' || tgrelid::regclass::text FROM pg_catalog.pg_trigger WHERE NOT tgisinternal AND {User("oid", "pg_catalog.pg_trigger")}
            UNION ALL
            SELECT 'constraint ' || quote_ident(conname) || ' on ' || coalesce(nullif(conrelid, 0)::regclass::text, contypid::regtype::text)
            FROM pg_catalog.pg_constraint WHERE contype <> 'n' AND {User("oid", "pg_catalog.pg_constraint")}
            UNION ALL
            SELECT 'policy ' || quote_ident(polname) || ' on ' || polrelid::regclass::text FROM pg_catalog.pg_policy WHERE {User("oid", "pg_catalog.pg_policy")}
            UNION ALL
            SELECT 'rule ' || quote_ident(rulename) || ' on ' || ev_class::regclass::text FROM pg_catalog.pg_rewrite WHERE rulename <> '_RETURN' AND {User("oid", "pg_catalog.pg_rewrite")}
            UNION ALL
            SELECT 'extension ' || quote_ident(extname) FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'
            """;
        var objects = new HashSet<string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            objects.Add(reader.GetString(0));
        return objects;
    }

    private static async Task<(long Rows, string Sum)> CountAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetString(1));
    }

    private static async Task<string> SequenceValueAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return $"{reader.GetInt64(0).ToString(CultureInfo.InvariantCulture)}{(reader.GetBoolean(1) ? "" : " (not called)")}";
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
