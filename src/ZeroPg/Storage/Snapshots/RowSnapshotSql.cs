using System.Globalization;
using System.Text;

namespace ZeroPg.Storage.Snapshots;

/// <summary>A table whose rows a snapshot keeps: its oid, its name (quoted, schema-qualified) and the columns COPY writes (generated ones left out).</summary>
internal sealed record SnapshotTable(uint Oid, string Name, string Columns);

/// <summary>
/// The SQL of <see cref="RowSnapshot"/>. What changed since a baseline transaction id is told by the rows themselves:
/// a row inserted or updated later has a newer xmin, a deleted one lowers the count. The catalogs are checked so
/// (every table of pg_catalog and information_schema but the planner's statistics, which ANALYZE rewrites and which
/// change no result) less their rows of temp objects (<see cref="SnapshotTempRows"/>), as are the tables, except that pg_class
/// and pg_sequence with newer rows are then compared by content (<see cref="Content"/>: a test's TRUNCATE is put back in
/// place, not by an engine swap); xids are compared as numbers, which holds until the 32-bit counter wraps (four billion
/// transactions, far beyond a test run).
/// </summary>
internal static class RowSnapshotSql
{
    /// <summary>
    /// What the snapshot is made of, one row each: ('c', catalog), ('t', table, oid, columns), ('s', sequence), ('f', referencing,
    /// referenced), ('a', table with an ALWAYS trigger), ('k', catalog compared by <see cref="Content"/>, null, its columns).
    /// </summary>
    public const string Shape = """
        select 'c', format('%I.%I', n.nspname, c.relname), null, null from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'r' and n.nspname in ('pg_catalog', 'information_schema') and c.relname not in ('pg_statistic', 'pg_statistic_ext_data')
        union all
        select 't', format('%I.%I', n.nspname, c.relname), c.oid::text,
               (select string_agg(quote_ident(a.attname), ', ' order by a.attnum) from pg_catalog.pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '')
          from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'r' and c.relpersistence <> 't' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
        union all
        select 's', format('%I.%I', n.nspname, c.relname), null, null from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'S' and c.relpersistence <> 't'
        union all
        select 'f', conrelid::text, confrelid::text, null from pg_catalog.pg_constraint where contype = 'f'
        union all
        select 'a', tgrelid::text, null, null from pg_catalog.pg_trigger where tgenabled = 'A' and not tgisinternal
        union all
        select 'k', format('%I.%I', n.nspname, c.relname), null,
               (select string_agg(quote_ident(a.attname), ', ' order by a.attnum) from pg_catalog.pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                   and a.attname not in ('relfilenode', 'relpages', 'reltuples', 'relallvisible', 'relallfrozen', 'relfrozenxid', 'relminmxid'))
          from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'pg_catalog' and c.relname in ('pg_class', 'pg_sequence')
        """;

    /// <summary>
    /// A catalog whose rows TRUNCATE and ALTER SEQUENCE ... RESTART rewrite without a change a restore must undo: they give a
    /// relation a new relfilenode, a new version of its pg_class row (and of its pg_sequence row), as ANALYZE's statistics do.
    /// Such a catalog counts as changed when, besides newer rows, what it holds less those columns and temp objects differs
    /// (one md5 of its rows, <paramref name="columns"/> from <see cref="Shape"/>'s 'k' rows).
    /// </summary>
    public static string Content(string catalog, string columns)
        => $"select pg_catalog.md5(coalesce(string_agg(row({columns})::text, ',' order by {columns.Split(',')[0]}), '')) from {catalog}" // by its oid
            + SnapshotTempRows.Except(catalog);

    /// <summary>One row: each query's md5, in order, comma-separated.</summary>
    public static string Hashes(IEnumerable<string> contents)
        => CommaSeparated(contents.Select(c => $"({c})"));

    /// <summary>The transaction's id (assigned now, so every later change has a newer one), as a 32-bit number.</summary>
    public const string CurrentXid = "select pg_catalog.pg_current_xact_id()::xid::text";

    /// <summary>One row: each relation's row count, in order, comma-separated (a catalog's without its rows of temp objects, <see cref="SnapshotTempRows"/>).</summary>
    public static string Counts(IEnumerable<string> relations)
        => CommaSeparated(relations.Select(r => $"(select count(*) from {r}{SnapshotTempRows.Except(r)})"));

    /// <summary>One row: each sequence's last_value:is_called, in order, comma-separated.</summary>
    public static string SequenceValues(IEnumerable<string> sequences)
        => CommaSeparated(sequences.Select(s => $"(select last_value || ':' || is_called from {s})"));

    /// <summary>One row, one text: the values comma-separated; '' for none (concat_ws needs more than its separator: a schema without sequences).</summary>
    private static string CommaSeparated(IEnumerable<string> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? "select ''::text" : "select concat_ws(',', " + string.Join(", ", list) + ")";
    }

    public static string CopyOut(SnapshotTable table) => $"COPY {table.Name} ({table.Columns}) TO STDOUT (FORMAT binary)";

    public static string CopyIn(SnapshotTable table) => $"COPY {table.Name} ({table.Columns}) FROM STDIN (FORMAT binary)";

    /// <summary>
    /// One row, one text: '1' or '0' for "the catalogs changed since <paramref name="baseline"/>", then one per table for "its rows changed".
    /// </summary>
    public static string Changes(IReadOnlyList<(string Name, long Count)> catalogs, IReadOnlyDictionary<string, (string Sql, string Hash)> contents,
        IReadOnlyList<(SnapshotTable Table, long Count)> tables, long baseline)
    {
        var xid = baseline.ToString(CultureInfo.InvariantCulture);
        string Changed(string relation, long count)
            => $"(select count(*) <> {count.ToString(CultureInfo.InvariantCulture)} or coalesce(bool_or(xmin::text::bigint > {xid}), false) from {relation}{SnapshotTempRows.Except(relation)})";
        // The md5 only where rows are newer (after a TRUNCATE): an unchanged catalog costs its cheap look alone.
        string CatalogChanged(string catalog, long count) => contents.TryGetValue(catalog, out var content)
            ? $"(case when {Changed(catalog, count)} then ({content.Sql}) <> '{content.Hash}' else false end)"
            : Changed(catalog, count);
        var sql = new StringBuilder("select (");
        sql.Append(catalogs.Count == 0 ? "false" : string.Join(" or ", catalogs.Select(c => CatalogChanged(c.Name, c.Count))));
        sql.Append(")::int::text");
        foreach (var (table, count) in tables)
            sql.Append(" || ").Append(Changed(table.Name, count)).Append("::int::text");
        return sql.ToString();
    }

    public static string SetSequences(IReadOnlyList<(string Name, string Value, bool Called)> sequences)
        => "select " + (sequences.Count == 0 ? "1" : string.Join(", ",
            sequences.Select(s => $"pg_catalog.setval('{s.Name.Replace("'", "''")}', {s.Value}, {(s.Called ? "true" : "false")})")));
}
