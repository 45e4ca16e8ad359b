using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>Recognises the shapes of units ZeroPg treats specially, from their accepted messages.</summary>
internal static class UnitShape
{
    /// <summary>The SQL of a unit that is one simple Query, or null.</summary>
    public static SqlAnalysis? SingleQuery(IReadOnlyList<ClientMessage> messages, int count)
        => count == 1 && messages[0].Code == FrontendCode.Query ? messages[0].Sql : null;

    /// <summary>
    /// The SQL of a unit that runs one already prepared statement without parameters: Bind, optionally
    /// Describe of its portal, Execute, Sync. This is how clients that prepare everything (pgbench -M
    /// prepared, JDBC after its threshold) send BEGIN and COMMIT.
    /// </summary>
    public static SqlAnalysis? BoundStatement(IReadOnlyList<ClientMessage> messages, int count, StatementMapping statements, out bool describes)
    {
        describes = false;
        if (count is < 3 or > 4 || messages[0].Code != FrontendCode.Bind || !messages[0].BindsNoParameters)
            return null;
        var next = 1;
        if (messages[next].Code == FrontendCode.Describe && messages[next].Target == TargetedMessage.Portal)
        {
            describes = true;
            next++;
        }
        if (next + 2 != count || messages[next].Code != FrontendCode.Execute || messages[next + 1].Code != FrontendCode.Sync)
            return null;
        return statements.StatementSql(messages[0].StatementName!);
    }
}
