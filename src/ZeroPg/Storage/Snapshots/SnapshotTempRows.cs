namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// The catalog rows that describe temp objects, which a snapshot's restore leaves out of its comparison: they belong to
/// sessions, not to the database. ZeroPg keeps a temp table for advisory locks from their first use; a pooled connection
/// keeps its client's temp tables until its next use (Npgsql's DISCARD ALL); a session's first temp table makes the temp
/// schemas, which stay. A restore in place leaves them as they are (a swap loses them, as an engine restart does).
/// Catalogs not listed have no rows of temp objects that matter here; a row missed only makes a restore swap engines.
/// </summary>
internal static class SnapshotTempRows
{
    private const string Namespaces = "(select oid from pg_catalog.pg_namespace where nspname ~ '^pg_(toast_)?temp_')";
    private const string Relations = "(select oid from pg_catalog.pg_class where relnamespace in " + Namespaces + ")";

    /// <summary>A temp object's dependencies: pg_depend's and pg_shdepend's rows name the object by its catalog and oid.</summary>
    private static readonly string Depend = string.Join(" or ", new[]
    {
        ("pg_class", Relations),
        ("pg_type", "(select oid from pg_catalog.pg_type where typnamespace in " + Namespaces + ")"),
        ("pg_proc", "(select oid from pg_catalog.pg_proc where pronamespace in " + Namespaces + ")"),
        ("pg_constraint", "(select oid from pg_catalog.pg_constraint where connamespace in " + Namespaces + ")"),
        ("pg_attrdef", "(select oid from pg_catalog.pg_attrdef where adrelid in " + Relations + ")"),
        ("pg_trigger", "(select oid from pg_catalog.pg_trigger where tgrelid in " + Relations + ")"),
        ("pg_rewrite", "(select oid from pg_catalog.pg_rewrite where ev_class in " + Relations + ")"),
    }.Select(c => $"(classid = 'pg_catalog.{c.Item1}'::pg_catalog.regclass and objid in {c.Item2})"));

    /// <summary>" where not (...)" leaving out <paramref name="catalog"/>'s rows of temp objects, or "" when it has none.</summary>
    public static string Except(string catalog)
    {
        var temp = catalog switch
        {
            "pg_catalog.pg_namespace" => "nspname ~ '^pg_(toast_)?temp_'",
            "pg_catalog.pg_class" => "relnamespace in " + Namespaces,
            "pg_catalog.pg_type" => "typnamespace in " + Namespaces,
            "pg_catalog.pg_proc" => "pronamespace in " + Namespaces,
            "pg_catalog.pg_constraint" => "connamespace in " + Namespaces,
            "pg_catalog.pg_attribute" => "attrelid in " + Relations,
            "pg_catalog.pg_attrdef" => "adrelid in " + Relations,
            "pg_catalog.pg_index" => "indrelid in " + Relations,
            "pg_catalog.pg_sequence" => "seqrelid in " + Relations,
            "pg_catalog.pg_trigger" => "tgrelid in " + Relations,
            "pg_catalog.pg_rewrite" => "ev_class in " + Relations,
            "pg_catalog.pg_depend" => Depend,
            "pg_catalog.pg_shdepend" => Depend, // a temp table's owner, when it is not the bootstrap superuser
            _ => null,
        };
        return temp is null ? "" : $" where not ({temp})";
    }
}
