using ZeroPg.Sessions;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Reads the shared engine session as it is, unfiltered by any client's view (ZeroPg rewrites pg_cursors,
/// pg_prepared_statements and the like for clients): through the server's own SQL path, the one its backup uses.
/// </summary>
internal static class EngineProbe
{
    public static async Task<string?> ScalarAsync(ZeroPgServer server, string sql)
        => (await OwnSql.QueryRowAsync(await server.Services.Engine.GetAsync(), sql, TimeSpan.FromSeconds(10)))[0];

    public static async Task<long> CountAsync(ZeroPgServer server, string sql) => long.Parse((await ScalarAsync(server, sql))!);
}
