using ZeroPg.Sessions;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Reads the shared engine session as it is, unfiltered by any client's view (ZeroPg rewrites pg_cursors,
/// pg_prepared_statements and the like for clients): through the server's own SQL path, the one its backup uses.
/// </summary>
internal static class EngineProbe
{
    /// <summary>Until the engine runs a client's call (a cancel before that is one of a statement still queued).</summary>
    public static Task RunningAsync(ZeroPgServer server)
        => Eventually.WaitUntilAsync(async () => (await server.Services.Engine.GetAsync()).HasCallsInFlight, "a query running in the engine");

    /// <summary>Until a client's statement <paramref name="sql"/> runs in its engine (not queued for it): a cancel then stops it.</summary>
    public static Task StatementRunningAsync(ZeroPgServer server, string sql)
        => Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Any(s => s.Activity.Current is { State: "active", WaitsForEngine: false } now && now.Query == sql),
            $"'{sql}' running in the engine");

    public static async Task<string?> ScalarAsync(ZeroPgServer server, string sql)
        => (await OwnSql.QueryRowAsync(await server.Services.Engine.GetAsync(), sql, TimeSpan.FromSeconds(10)))[0];

    public static async Task<long> CountAsync(ZeroPgServer server, string sql) => long.Parse((await ScalarAsync(server, sql))!);
}
