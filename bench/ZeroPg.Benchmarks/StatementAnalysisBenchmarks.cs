using BenchmarkDotNet.Attributes;
using ZeroPg.Sql;

namespace ZeroPg.Benchmarks;

/// <summary>
/// What a session asks of one simple Query's analysis between its arrival and its batch (issue 29): the analysis, every
/// refusal check, the COPY, database and encoding checks, the pipelining and write checks, auto-prepare and the rewrite.
/// The statements are pgbench's (select-only and TPC-B), the texts every benchmarked round trip carries, SELECT 1, and psql's \dt
/// (a catalog read: pg_class and pg_namespace become ZeroPg's filtered views of them, Sql/CatalogViews).
/// </summary>
[MemoryDiagnoser]
public class StatementAnalysisBenchmarks
{
    [Params(
        "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
        "UPDATE pgbench_accounts SET abalance = abalance + -2410 WHERE aid = 48213;",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 48213, -2410, CURRENT_TIMESTAMP);",
        "BEGIN;",
        "SELECT 1;",
        "SELECT n.nspname as \"Schema\", c.relname as \"Name\", pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\" FROM pg_catalog.pg_class c"
            + " LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog'"
            + " AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;")]
    public string Sql { get; set; } = "";

    [Benchmark]
    public int AcceptAndBuild()
    {
        var sql = SqlAnalysis.Of(Sql);
        var signs = 0;
        signs += sql.ClientEncodingCommand is null ? 0 : 1;
        var refusals = sql.Refusals;
        signs += refusals.RunsProgram || refusals.NamesZeroPgInternals || refusals.NamesSessionAuthorization || refusals.AsideNamePids.Count > 0
            || refusals.UsesDeviceFile || refusals.ReachesServerFiles ? 1 : 0;
        signs += sql.CopiesFromStdinLater || sql.DatabaseCommand is not null || sql.CopiesFromStdin ? 1 : 0;
        signs += sql.IsPlainBegin || sql.ChangesRoles || sql.Effects.UsesAdvisoryLocks || sql.Effects.ReadsDatabaseSizes ? 1 : 0;
        signs += sql.CannotWrite || sql.IsPlainTransactionEnd || sql.LocalResetTag is not null || sql.DeallocatesAll ? 1 : 0;
        signs += sql.ReadsPreparedStatements || sql.SignalsBackends || sql.UsesReplicationSlots || sql.MayChangeSchema() ? 1 : 0;
        signs += sql.CommitsPrepared || sql.RollsBackPrepared || sql.StartsWithPrepareTransaction ? 1 : 0;
        signs += sql.IsPipelineSafe ? 1 : 0;
        signs += sql.Rewrite(1234, null).Length;
        signs += sql.TryParameterize(out var query) ? query.Sql.Length : 0;
        return signs;
    }
}
