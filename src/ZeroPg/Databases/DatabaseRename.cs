using ZeroPg.Engine;
using ZeroPg.Sessions;
using ZeroPg.Sql;

namespace ZeroPg.Databases;

/// <summary>
/// Renames the database an engine serves, inside the running engine. Postgres refuses ALTER DATABASE ... RENAME of the
/// database one is connected to, but PGlite's engine is connected to nothing else, and a superuser may update
/// pg_database: current_database() follows at once (the syscache is invalidated by the update), the name is in the WAL
/// (crash recovery keeps it) and a later start opens the cluster under the new name. This is how a spare engine becomes
/// the database CREATE DATABASE asked for, how a template's copy takes its own name, and how ALTER DATABASE ... RENAME
/// works without a restart.
/// </summary>
internal static class DatabaseRename
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static string Statement(string from, string to)
        => "UPDATE pg_catalog.pg_database SET datname = " + SqlEdit.Literal(to) + ", datistemplate = false, datallowconn = true WHERE datname = " + SqlEdit.Literal(from);

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/> in <paramref name="engine"/>'s cluster; an engine no client uses yet.</summary>
    public static async Task RunAsync(EngineProcess engine, string from, string to)
    {
        if (from == to)
            return;
        try
        {
            await OwnSql.RunCheckedAsync(engine, Statement(from, to), Timeout);
        }
        catch (OwnSqlException error)
        {
            throw new EngineFailedException($"renaming database \"{from}\" to \"{to}\" in its engine failed: {error.Message}");
        }
    }
}
