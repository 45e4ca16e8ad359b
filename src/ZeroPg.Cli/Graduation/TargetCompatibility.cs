using Npgsql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// What a dump of a newer server cannot carry to an older one. pg_dump 18 writes the syntax of the
/// server it reads; objects that use a feature the target version lacks cannot be expressed there
/// at all, so the dump is refused with the list of them instead of failing half-way on the target.
/// (Syntax that has an exact older form is rewritten instead: see <see cref="DumpFilter"/>.)
/// </summary>
internal static class TargetCompatibility
{
    public const int OldestTarget = 15;
    public const int NewestTarget = 18;

    /// <summary>A feature new in <paramref name="Since"/>, and the query listing the objects that use it.</summary>
    private sealed record Feature(int Since, string What, string Query);

    // Only user objects (oid >= 16384, FirstNormalObjectId) outside extensions: extension members
    // are not in the dump, CREATE EXTENSION makes them on the target.
    private const string NotInExtension = "NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.objid = {0} AND d.deptype = 'e')";

    private static readonly Feature[] Features =
    [
        new(18, "virtual generated columns (GENERATED ALWAYS AS (...) VIRTUAL)",
            "SELECT format('%s.%I', a.attrelid::regclass, a.attname) FROM pg_catalog.pg_attribute a WHERE a.attgenerated = 'v' AND NOT a.attisdropped AND a.attrelid >= 16384"),
        new(18, "NOT ENFORCED constraints",
            "SELECT format('%I on %s', conname, conrelid::regclass) FROM pg_catalog.pg_constraint WHERE NOT conenforced AND oid >= 16384"),
        new(18, "temporal constraints (WITHOUT OVERLAPS, PERIOD)",
            "SELECT format('%I on %s', conname, conrelid::regclass) FROM pg_catalog.pg_constraint WHERE conperiod AND oid >= 16384"),
        new(18, "NOT NULL constraints that are NOT VALID or NO INHERIT",
            "SELECT format('%I on %s', conname, conrelid::regclass) FROM pg_catalog.pg_constraint WHERE contype = 'n' AND (NOT convalidated OR connoinherit) AND oid >= 16384"),
        new(18, "comments on NOT NULL constraints",
            "SELECT format('%I on %s', c.conname, c.conrelid::regclass) FROM pg_catalog.pg_description d JOIN pg_catalog.pg_constraint c ON d.classoid = 'pg_catalog.pg_constraint'::regclass AND d.objoid = c.oid WHERE c.contype = 'n'"),
        new(18, "default privileges on large objects",
            "SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I ... ON LARGE OBJECTS', defaclrole::regrole) FROM pg_catalog.pg_default_acl WHERE defaclobjtype = 'L'"),
        new(17, "collations of the builtin provider",
            $"SELECT c.oid::regcollation::text FROM pg_catalog.pg_collation c WHERE c.collprovider = 'b' AND c.oid >= 16384 AND {string.Format(System.Globalization.CultureInfo.InvariantCulture, NotInExtension, "c.oid")}"),
        new(17, "login event triggers",
            "SELECT format('event trigger %I', evtname) FROM pg_catalog.pg_event_trigger WHERE evtevent = 'login'"),
    ];

    /// <summary>The major version of the server (15, 18, ...).</summary>
    public static async Task<int> ServerMajorAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int / 10000", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Objects of the source that the target version cannot hold, each with the feature it uses.</summary>
    public static async Task<IReadOnlyList<string>> FindProblemsAsync(NpgsqlConnection source, int sourceMajor, int targetMajor, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var feature in Features.Where(f => sourceMajor >= f.Since && targetMajor < f.Since))
        {
            await using var command = new NpgsqlCommand(feature.Query, source);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var objects = new List<string>();
            while (await reader.ReadAsync(cancellationToken))
                objects.Add(reader.GetString(0));
            if (objects.Count > 0)
                problems.Add($"{feature.What} (PostgreSQL {feature.Since}+): {string.Join(", ", objects.Take(10))}{(objects.Count > 10 ? $" and {objects.Count - 10} more" : "")}");
        }
        return problems;
    }
}
