namespace ZeroPg.Sql;

/// <summary>
/// Catalog relations that name temp relations, read by a client in their place without the other clients' temp
/// relations. All clients' temp relations live in the shared engine session's one temp schema; while one client runs,
/// the others' are renamed aside to "zp&lt;pid&gt;_name" (Sessions/TempRelations), so a row of a temp schema whose name
/// has that shape is another client's. Postgres shows a session neither others' temp relations' names nor their
/// columns, indexes, types or statistics: these views of the catalog keep it so for SQL that names the catalog.
/// </summary>
internal static class TempCatalogs
{
    private const string Aside = "'^_?zp[0-9]+_'";
    private const string TempSchema = "'^pg_temp_'";

    /// <summary>The catalogs by name (pg_catalog's unqualified, information_schema's qualified), each with its filtered form.</summary>
    private static readonly Dictionary<string, string> Filtered = new(StringComparer.OrdinalIgnoreCase)
    {
        // The system columns too: SELECT * leaves them out, and pg_dump reads c.tableoid.
        ["pg_class"] = "(SELECT r.tableoid, r.ctid, r.xmin, r.xmax, r.cmin, r.cmax, r.* FROM pg_catalog.pg_class r"
            + $" WHERE r.relpersistence OPERATOR(pg_catalog.<>) 't' OR r.relname OPERATOR(pg_catalog.!~) {Aside})",
        ["pg_type"] = "(SELECT r.tableoid, r.ctid, r.xmin, r.xmax, r.cmin, r.cmax, r.* FROM pg_catalog.pg_type r"
            + $" WHERE r.typnamespace OPERATOR(pg_catalog.<>) pg_catalog.pg_my_temp_schema() OR r.typname OPERATOR(pg_catalog.!~) {Aside})",
        ["pg_tables"] = View("pg_catalog.pg_tables", "schemaname", "tablename"),
        ["pg_indexes"] = View("pg_catalog.pg_indexes", "schemaname", "tablename"),
        ["pg_views"] = View("pg_catalog.pg_views", "schemaname", "viewname"),
        ["pg_sequences"] = View("pg_catalog.pg_sequences", "schemaname", "sequencename"),
        ["pg_stat_all_tables"] = View("pg_catalog.pg_stat_all_tables", "schemaname", "relname"),
        ["pg_stat_user_tables"] = View("pg_catalog.pg_stat_user_tables", "schemaname", "relname"),
        ["pg_statio_all_tables"] = View("pg_catalog.pg_statio_all_tables", "schemaname", "relname"),
        ["pg_statio_user_tables"] = View("pg_catalog.pg_statio_user_tables", "schemaname", "relname"),
        ["pg_stat_all_indexes"] = View("pg_catalog.pg_stat_all_indexes", "schemaname", "relname"),
        ["pg_stat_user_indexes"] = View("pg_catalog.pg_stat_user_indexes", "schemaname", "relname"),
        ["information_schema.tables"] = View("information_schema.tables", "table_schema", "table_name"),
        ["information_schema.columns"] = View("information_schema.columns", "table_schema", "table_name"),
        ["information_schema.views"] = View("information_schema.views", "table_schema", "table_name"),
        ["information_schema.sequences"] = View("information_schema.sequences", "sequence_schema", "sequence_name"),
        ["information_schema.table_constraints"] = View("information_schema.table_constraints", "table_schema", "table_name"),
        ["information_schema.key_column_usage"] = View("information_schema.key_column_usage", "table_schema", "table_name"),
    };

    /// <summary>True when <paramref name="name"/> (e.g. "pg_class", "information_schema.columns") is such a catalog.</summary>
    public static bool Contains(string name) => Filtered.ContainsKey(name);

    /// <summary>The catalog without other clients' temp relations, as a parenthesized subquery.</summary>
    public static string Sql(string name) => Filtered[name];

    private static string View(string relation, string schema, string name)
        => $"(SELECT * FROM {relation} WHERE {schema}::pg_catalog.text OPERATOR(pg_catalog.!~) {TempSchema}"
            + $" OR {name}::pg_catalog.text OPERATOR(pg_catalog.!~) {Aside})";
}
