using System.Text;
using ZeroPg.Tests.Infrastructure;
using static ZeroPg.Tests.Infrastructure.RawProtocolClient;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// The differential check of auto-prepare: every query of a corpus runs three times on a server with
/// auto-prepare and on one without, and every reply message must be the same, byte for byte.
/// Corpus format: one statement per line (a trailing backslash continues it); "!" runs a line once
/// (setup, schema and setting changes); "#" is a comment; "@name" switches to another client, opened
/// on both servers the first time. Pooled: both servers pool two backends of a native PostgreSQL of their own
/// (src/ZeroPg/Engine/Pooled/AutoPreparedRuns.cs).
/// </summary>
public sealed class AutoPrepareCorpusTests
{
    [Theory]
    [InlineData("queries.sql", false)]
    [InlineData("settings-and-clients.sql", false)]
    [InlineData("queries.sql", true)]
    [InlineData("settings-and-clients.sql", true)]
    public async Task Every_corpus_query_answers_the_same_with_and_without_auto_prepare(string corpus, bool pooled)
    {
        await using var prepared = await ZeroPgServer.StartAsync(Options(pooled, autoPrepare: true), TestLogging.Factory);
        await using var plain = await ZeroPgServer.StartAsync(Options(pooled, autoPrepare: false), TestLogging.Factory);
        var clients = new Dictionary<string, (RawProtocolClient Prepared, RawProtocolClient Plain)>();
        var differences = new List<string>();
        try
        {
            var current = "main";
            foreach (var item in Load(Path.Combine(RepoPaths.Root, "tests", "ZeroPg.Tests", "Sessions", "AutoPrepareCorpus", corpus)))
            {
                if (item.StartsWith('@'))
                {
                    current = item[1..].Trim();
                    continue;
                }
                if (!clients.TryGetValue(current, out var pair))
                    clients[current] = pair = (await ConnectAsync(prepared), await ConnectAsync(plain));
                var once = item.StartsWith('!');
                var sql = once ? item[1..] : item;
                for (var run = 1; run <= (once ? 1 : 3); run++)
                {
                    var expected = Describe(await pair.Plain.Query(sql).RoundTripAsync());
                    var actual = Describe(await pair.Prepared.Query(sql).RoundTripAsync());
                    if (expected != actual)
                        differences.Add($"[{current}] run {run}: {sql}\n  plain:    {expected}\n  prepared: {actual}");
                }
            }
        }
        finally
        {
            foreach (var (a, b) in clients.Values)
            {
                await a.DisposeAsync();
                await b.DisposeAsync();
            }
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
        Assert.True(prepared.Metrics.AutoPreparedRuns >= 20, $"only {prepared.Metrics.AutoPreparedRuns} runs were auto-prepared");
        Assert.Equal(0, plain.Metrics.AutoPreparedRuns);
    }

    private static ZeroPgOptions Options(bool pooled, bool autoPrepare) => !pooled ? new ZeroPgOptions { AutoPrepare = autoPrepare } : new ZeroPgOptions
    {
        AutoPrepare = autoPrepare,
        Engine = ZeroPg.Engine.EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        PoolSize = 2,
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };

    /// <summary>Every message of a reply, type and body in hex: equal strings mean equal bytes.</summary>
    private static string Describe(List<Message> reply) => string.Join(" ", reply.Select(m => m.Code + Convert.ToHexString(m.Body)));

    private static IEnumerable<string> Load(string path)
    {
        var current = new StringBuilder();
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (current.Length == 0 && (line.Trim().Length == 0 || line.StartsWith('#')))
                continue;
            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1]).Append('\n');
                continue;
            }
            yield return current.Append(line).ToString();
            current.Clear();
        }
    }
}
