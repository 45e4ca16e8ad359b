namespace ZeroPg.Sql;

/// <summary>
/// The catalogs as a client of its own backend would read them, substituted for the engine's where a client's SQL names one as a
/// relation (<see cref="SqlEditKind.Catalog"/>). Two kinds of rows are left out, so that every catalog, information_schema view and
/// statistics view lists neither:
/// <list type="bullet">
/// <item>ZeroPg's own machinery: the schema zeropg_repl and everything in it (change capture, replication slots), the capture triggers
/// it puts on published tables and its event trigger (named zeropg_*), and the advisory lock table and functions it keeps in the temp
/// schema (zeropg_internal_*, pg_temp.pg_advisory_*);</item>
/// <item>other clients' temp relations: all clients' live in the engine session's one temp schema, and while one client runs the others'
/// are renamed aside to "zp&lt;pid&gt;_name" (Sessions/TempRelations); their toast tables and indexes go with them, and the temp schema
/// itself is shown only to a client that made a temp object (as pg_my_temp_schema()).</item>
/// </list>
/// One column is shown other than the engine keeps it: pg_attribute.attoptions without the engine's own pg_attver option
/// (<see cref="AttributeColumns"/>).
/// Each substitute is a subquery with exactly the engine catalog's columns in their order (a tool reading c.* by position reads the
/// right ones); the system columns a text names (pg_dump's c.tableoid) come after them. The filters read no catalog beyond the one
/// substituted, except for the catalogs keyed by a relation or object oid (pg_attribute, pg_depend, ...), which look up the hidden oids
/// once per statement (a hashed subplan). Only text that names a catalog pays for this: the scanner's first search finds none in
/// SELECT 1 or pgbench's statements.
/// </summary>
internal static class CatalogViews
{
    /// <summary>ZeroPg's schema in the engine (<see cref="Replication.Capture.CaptureSchema.Schema"/>).</summary>
    private const string Schema = Replication.Capture.CaptureSchema.Schema;

    /// <summary>Its oid, 0 before it exists: looked up by name without a lock (an init plan, once per statement).</summary>
    private const string SchemaOid = "(SELECT COALESCE(pg_catalog.to_regnamespace('" + Schema + "')::pg_catalog.oid, 0::pg_catalog.oid))";

    /// <summary>Names in the temp schema that are not the client's: other clients' relations put aside, ZeroPg's lock table.</summary>
    private const string HiddenTempNames = "'^_?(zp[0-9]+_|zeropg_internal)'";

    /// <summary>Routines in the temp schema that are ZeroPg's: the lock functions and the per-client advisory functions.</summary>
    private const string HiddenTempRoutines = "'^(zeropg_internal|pg_(try_)?advisory_)'";

    /// <summary>ZeroPg's triggers and event trigger, which are not in its schema (capture triggers sit on the client's tables).</summary>
    private const string OwnTriggers = "'^zeropg_'";

    private const string TempSchemas = "'^pg_(toast_)?temp_'";

    private static string Eq(string a, string b) => $"{a} OPERATOR(pg_catalog.=) {b}";

    private static string Match(string a, string pattern) => $"{a} OPERATOR(pg_catalog.~) {pattern}";

    /// <summary>A pg_class row <paramref name="r"/> that is ZeroPg's or another client's, with the toast tables and their indexes of those.</summary>
    private static string ClassHidden(string r)
        => $"{Eq(r + ".relnamespace", SchemaOid)} OR ({Eq(r + ".relpersistence", "'t'")} AND {Match(r + ".relname", HiddenTempNames)})"
            + $" OR ({r}.relkind OPERATOR(pg_catalog.=) ANY ('{{t,i}}'::pg_catalog.\"char\"[]) AND {Match(r + ".relname", "'^pg_toast_[0-9]+(_index)?$'")}"
            + $" AND EXISTS (SELECT FROM pg_catalog.pg_class zo WHERE {Eq("zo.oid", $"pg_catalog.substring({r}.relname::pg_catalog.text, '^pg_toast_([0-9]+)')::pg_catalog.oid")}"
            + $" AND ({Eq("zo.relnamespace", SchemaOid)} OR ({Eq("zo.relpersistence", "'t'")} AND {Match("zo.relname", HiddenTempNames)}))))";

    /// <summary>The oids of the hidden pg_class rows, as a subquery.</summary>
    private static readonly string HiddenClasses = $"(SELECT zh.oid FROM pg_catalog.pg_class zh WHERE {ClassHidden("zh")})";

    private static string NotHiddenClass(string column) => $"NOT ({column} OPERATOR(pg_catalog.=) ANY {HiddenClasses})";

    private static string TypeHidden(string t)
        => $"{Eq(t + ".typnamespace", SchemaOid)} OR ({Eq(t + ".typnamespace", "pg_catalog.pg_my_temp_schema()")} AND {Match(t + ".typname", HiddenTempNames)})";

    private static string ProcHidden(string p)
        => $"{Eq(p + ".pronamespace", SchemaOid)} OR ({Eq(p + ".pronamespace", "pg_catalog.pg_my_temp_schema()")} AND {Match(p + ".proname", HiddenTempRoutines)})";

    private static string TriggerHidden(string g) => $"{Match(g + ".tgname", OwnTriggers)} OR {g}.tgrelid OPERATOR(pg_catalog.=) ANY {HiddenClasses}";

    private static string ConstraintHidden(string c) => $"{Eq(c + ".connamespace", SchemaOid)} OR {c}.conrelid OPERATOR(pg_catalog.=) ANY {HiddenClasses}";

    /// <summary>
    /// Every hidden object's oid (relations, routines, types, triggers, constraints, defaults, rules, the schema), for pg_depend and
    /// pg_description: a WITH list (zpo) made once per statement, the hidden relations (zph) once within it.
    /// </summary>
    private static readonly string HiddenObjects = $"zph AS MATERIALIZED (SELECT zh.oid FROM pg_catalog.pg_class zh WHERE {ClassHidden("zh")}),"
        + " zpo AS MATERIALIZED (SELECT zph.oid FROM zph"
        + $" UNION ALL SELECT zp.oid FROM pg_catalog.pg_proc zp WHERE {ProcHidden("zp")}"
        + $" UNION ALL SELECT zt.oid FROM pg_catalog.pg_type zt WHERE {TypeHidden("zt")}"
        + $" UNION ALL SELECT zg.oid FROM pg_catalog.pg_trigger zg WHERE {Match("zg.tgname", OwnTriggers)} OR zg.tgrelid OPERATOR(pg_catalog.=) ANY (SELECT zph.oid FROM zph)"
        + $" UNION ALL SELECT ze.oid FROM pg_catalog.pg_event_trigger ze WHERE {Match("ze.evtname", OwnTriggers)}"
        + $" UNION ALL SELECT zc.oid FROM pg_catalog.pg_constraint zc WHERE {Eq("zc.connamespace", SchemaOid)} OR zc.conrelid OPERATOR(pg_catalog.=) ANY (SELECT zph.oid FROM zph)"
        + " UNION ALL SELECT za.oid FROM pg_catalog.pg_attrdef za WHERE za.adrelid OPERATOR(pg_catalog.=) ANY (SELECT zph.oid FROM zph)"
        + " UNION ALL SELECT zw.oid FROM pg_catalog.pg_rewrite zw WHERE zw.ev_class OPERATOR(pg_catalog.=) ANY (SELECT zph.oid FROM zph)"
        + $" UNION ALL SELECT {SchemaOid})";

    private static string NotHiddenObject(string column) => $"NOT ({column} OPERATOR(pg_catalog.=) ANY (SELECT zpo.oid FROM zpo))";

    /// <summary>A catalog and the condition (on alias r) its rows must meet; <c>{temp}</c> stands for whether the client has a temp schema.</summary>
    /// <param name="Table">A catalog table, which has system columns (a view has none).</param>
    /// <param name="With">A WITH list the condition reads.</param>
    /// <param name="Columns">Its columns as a client sees them, where one differs from the engine's (r.* otherwise).</param>
    private sealed record View(string Relation, Func<bool, string> Keep, bool Table = false, string? With = null, string Columns = "r.*");

    /// <summary>
    /// pg_attribute's columns (PostgreSQL 18's, in order) with attoptions as a client of Postgres sees it: PGlite (0.5.17 on) stamps
    /// every column it makes with an attribute option of its own, pg_attver=N, which no Postgres knows. pg_dump would write it out as
    /// ALTER COLUMN ... SET (pg_attver=N), which Postgres refuses (22023), and psql, ORMs and schema diff tools would list it. The
    /// client's own options (n_distinct, ...) stay, in order; none left is NULL, as in Postgres.
    /// </summary>
    private static readonly string AttributeColumns = "r.attrelid, r.attname, r.atttypid, r.attlen, r.attnum, r.atttypmod, r.attndims, r.attbyval, r.attalign,"
        + " r.attstorage, r.attcompression, r.attnotnull, r.atthasdef, r.atthasmissing, r.attidentity, r.attgenerated, r.attisdropped, r.attislocal,"
        + " r.attinhcount, r.attcollation, r.attstattarget, r.attacl,"
        + " (SELECT pg_catalog.array_agg(zao.o ORDER BY zao.n) FROM pg_catalog.unnest(r.attoptions) WITH ORDINALITY zao(o, n)"
        + $" WHERE {Match("zao.o", "'^pg_attver='")} IS NOT TRUE) AS attoptions,"
        + " r.attfdwoptions, r.attmissingval";

    private static View Catalog(string name, Func<bool, string> keep, bool table = true) => new("pg_catalog." + name, keep, table);

    /// <summary>A view that names relations by schema and name (pg_tables, information_schema.columns).</summary>
    private static View Named(string relation, string schema, string name, string hidden = HiddenTempNames, string? also = null)
        => new(relation, _ => $"NOT (r.{schema}::pg_catalog.text OPERATOR(pg_catalog.=) '{Schema}' OR (r.{schema}::pg_catalog.text OPERATOR(pg_catalog.~) {TempSchemas}"
            + $" AND r.{name}::pg_catalog.text OPERATOR(pg_catalog.~) {hidden}){(also is null ? "" : " OR " + also)})");

    /// <summary>A statistics view keyed by relation oid: toast tables are left out with their owners.</summary>
    private static View ByRelid(string name) => Catalog(name, _ => NotHiddenClass("r.relid"), table: false);

    private static View Schemata(string relation, string column)
        => new(relation, temp => $"r.{column}::pg_catalog.text OPERATOR(pg_catalog.<>) '{Schema}'"
            + (temp ? "" : $" AND r.{column}::pg_catalog.text OPERATOR(pg_catalog.!~) {TempSchemas}"));

    /// <summary>The catalogs by name (pg_catalog's unqualified, information_schema's qualified).</summary>
    private static readonly Dictionary<string, View> Views = Build();

    private static Dictionary<string, View> Build()
    {
        var views = new Dictionary<string, View>(StringComparer.OrdinalIgnoreCase)
        {
            ["pg_class"] = Catalog("pg_class", _ => $"NOT ({ClassHidden("r")})"),
            ["pg_type"] = Catalog("pg_type", _ => $"NOT ({TypeHidden("r")})"),
            ["pg_proc"] = Catalog("pg_proc", _ => $"NOT ({ProcHidden("r")})"),
            ["pg_namespace"] = Catalog("pg_namespace", temp => $"{Eq("r.oid", SchemaOid)} IS NOT TRUE" + (temp ? "" : $" AND {Match("r.nspname", TempSchemas)} IS NOT TRUE")),
            ["pg_attribute"] = Catalog("pg_attribute", _ => NotHiddenClass("r.attrelid")) with { Columns = AttributeColumns },
            ["pg_attrdef"] = Catalog("pg_attrdef", _ => NotHiddenClass("r.adrelid")),
            ["pg_index"] = Catalog("pg_index", _ => NotHiddenClass("r.indrelid")),
            ["pg_constraint"] = Catalog("pg_constraint", _ => $"NOT ({ConstraintHidden("r")})"),
            ["pg_trigger"] = Catalog("pg_trigger", _ => $"NOT ({TriggerHidden("r")})"),
            ["pg_event_trigger"] = Catalog("pg_event_trigger", _ => $"{Match("r.evtname", OwnTriggers)} IS NOT TRUE"),
            ["pg_sequence"] = Catalog("pg_sequence", _ => NotHiddenClass("r.seqrelid")),
            ["pg_statistic"] = Catalog("pg_statistic", _ => NotHiddenClass("r.starelid")),
            ["pg_statistic_ext"] = Catalog("pg_statistic_ext", _ => NotHiddenClass("r.stxrelid")),
            ["pg_inherits"] = Catalog("pg_inherits", _ => NotHiddenClass("r.inhrelid")),
            ["pg_rewrite"] = Catalog("pg_rewrite", _ => NotHiddenClass("r.ev_class")),
            ["pg_policy"] = Catalog("pg_policy", _ => NotHiddenClass("r.polrelid")),
            ["pg_depend"] = Catalog("pg_depend", _ => $"{NotHiddenObject("r.objid")} AND {NotHiddenObject("r.refobjid")}") with { With = HiddenObjects },
            ["pg_description"] = Catalog("pg_description", _ => NotHiddenObject("r.objoid")) with { With = HiddenObjects },
            ["pg_stat_user_functions"] = Catalog("pg_stat_user_functions", _ => $"NOT (r.funcid OPERATOR(pg_catalog.=) ANY (SELECT zp.oid FROM pg_catalog.pg_proc zp WHERE {ProcHidden("zp")}))", table: false),
            ["pg_stat_xact_user_functions"] = Catalog("pg_stat_xact_user_functions", _ => $"NOT (r.funcid OPERATOR(pg_catalog.=) ANY (SELECT zp.oid FROM pg_catalog.pg_proc zp WHERE {ProcHidden("zp")}))", table: false),
            ["pg_tables"] = Named("pg_catalog.pg_tables", "schemaname", "tablename"),
            ["pg_indexes"] = Named("pg_catalog.pg_indexes", "schemaname", "tablename"),
            ["pg_views"] = Named("pg_catalog.pg_views", "schemaname", "viewname"),
            ["pg_matviews"] = Named("pg_catalog.pg_matviews", "schemaname", "matviewname"),
            ["pg_sequences"] = Named("pg_catalog.pg_sequences", "schemaname", "sequencename"),
            ["pg_stats"] = Named("pg_catalog.pg_stats", "schemaname", "tablename"),
            ["pg_stats_ext"] = Named("pg_catalog.pg_stats_ext", "schemaname", "tablename"),
            ["pg_policies"] = Named("pg_catalog.pg_policies", "schemaname", "tablename"),
            ["pg_rules"] = Named("pg_catalog.pg_rules", "schemaname", "tablename"),
            ["information_schema.tables"] = Named("information_schema.tables", "table_schema", "table_name"),
            ["information_schema.columns"] = Named("information_schema.columns", "table_schema", "table_name"),
            ["information_schema.views"] = Named("information_schema.views", "table_schema", "table_name"),
            ["information_schema.sequences"] = Named("information_schema.sequences", "sequence_schema", "sequence_name"),
            ["information_schema.schemata"] = Schemata("information_schema.schemata", "schema_name"),
            ["information_schema.check_constraints"] = Named("information_schema.check_constraints", "constraint_schema", "constraint_name"),
            ["information_schema.referential_constraints"] = Named("information_schema.referential_constraints", "constraint_schema", "constraint_name"),
            ["information_schema.routines"] = Named("information_schema.routines", "routine_schema", "routine_name", HiddenTempRoutines),
            ["information_schema.parameters"] = Named("information_schema.parameters", "specific_schema", "specific_name", HiddenTempRoutines),
            ["information_schema.routine_privileges"] = Named("information_schema.routine_privileges", "routine_schema", "routine_name", HiddenTempRoutines),
            ["information_schema.role_routine_grants"] = Named("information_schema.role_routine_grants", "routine_schema", "routine_name", HiddenTempRoutines),
            ["information_schema.triggers"] = Named("information_schema.triggers", "event_object_schema", "event_object_table",
                also: $"r.trigger_name::pg_catalog.text OPERATOR(pg_catalog.~) {OwnTriggers}"),
            ["information_schema.triggered_update_columns"] = Named("information_schema.triggered_update_columns", "event_object_schema", "event_object_table",
                also: $"r.trigger_name::pg_catalog.text OPERATOR(pg_catalog.~) {OwnTriggers}"),
            ["information_schema.element_types"] = Named("information_schema.element_types", "object_schema", "object_name"),
            ["information_schema.attributes"] = Named("information_schema.attributes", "udt_schema", "udt_name"),
            ["information_schema.user_defined_types"] = Named("information_schema.user_defined_types", "user_defined_type_schema", "user_defined_type_name"),
            ["information_schema.usage_privileges"] = Named("information_schema.usage_privileges", "object_schema", "object_name"),
            ["information_schema.role_usage_grants"] = Named("information_schema.role_usage_grants", "object_schema", "object_name"),
            ["information_schema.data_type_privileges"] = Named("information_schema.data_type_privileges", "object_schema", "object_name"),
            ["information_schema.view_table_usage"] = Named("information_schema.view_table_usage", "view_schema", "view_name"),
            ["information_schema.view_column_usage"] = Named("information_schema.view_column_usage", "view_schema", "view_name"),
            ["information_schema.view_routine_usage"] = Named("information_schema.view_routine_usage", "table_schema", "table_name"),
            ["information_schema.column_udt_usage"] = Named("information_schema.column_udt_usage", "table_schema", "table_name"),
        };
        foreach (var scope in new[] { "all", "user", "sys" })
        {
            foreach (var stat in new[] { "pg_stat_{0}_tables", "pg_stat_xact_{0}_tables", "pg_statio_{0}_tables", "pg_stat_{0}_indexes", "pg_statio_{0}_indexes", "pg_statio_{0}_sequences" })
            {
                var name = string.Format(System.Globalization.CultureInfo.InvariantCulture, stat, scope);
                views[name] = ByRelid(name);
            }
        }
        foreach (var relation in new[] { "table_constraints", "key_column_usage", "constraint_column_usage", "constraint_table_usage", "table_privileges",
            "role_table_grants", "column_privileges", "role_column_grants" })
            views["information_schema." + relation] = Named("information_schema." + relation, "table_schema", "table_name");
        return views;
    }

    private static readonly Dictionary<string, View>.AlternateLookup<ReadOnlySpan<char>> ByName = Views.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>True when <paramref name="name"/> (e.g. "pg_class", "information_schema.columns") is such a catalog.</summary>
    public static bool Contains(ReadOnlySpan<char> name) => ByName.ContainsKey(name);

    /// <summary>The system columns a text may name, added after the catalog's own columns when it does.</summary>
    public static readonly string[] SystemColumns = ["tableoid", "ctid", "xmin", "xmax", "cmin", "cmax"];

    /// <summary>
    /// The catalog <paramref name="name"/> as a parenthesized subquery for a client (<paramref name="hasTempSchema"/>: it made a temp
    /// object, so the temp schema is its own), with the system columns <paramref name="systemColumns"/> after its own.
    /// </summary>
    public static string Sql(string name, bool hasTempSchema, IEnumerable<string> systemColumns)
    {
        var view = Views[name];
        var extra = view.Table ? string.Concat(systemColumns.Select(c => ", r." + c)) : "";
        var with = view.With is null ? "" : "WITH " + view.With + " ";
        return $"({with}SELECT {view.Columns}{extra} FROM {view.Relation} r WHERE {view.Keep(hasTempSchema)})";
    }
}
