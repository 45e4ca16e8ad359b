using System.Collections.Concurrent;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;
using BackupCli = ZeroPg.Tests.Storage.Backup.ZeroPgCli;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// SIGKILL of the whole server (the `zeropg serve` process, not only its engine) while clients commit, over and
/// over on one data directory: every commit a client saw acknowledged is there after each restart.
/// </summary>
public sealed class ServerKillTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_acknowledged_commit_survives_repeated_server_sigkills()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("ZEROPG_KILL_LOOP_COUNT"), out var configured) ? configured : 20;
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        var acknowledged = new ConcurrentBag<int>();
        var nextId = 0;
        var random = new Random(7);
        for (var kill = 0; kill <= kills; kill++)
        {
            await using var server = await BackupCli.ServeAsync(null, "--db", db);
            if (kill == 0)
                await ExecuteAsync(server.ConnectionString, "create table acked(id int primary key, payload text)");
            if (kill == kills)
            {
                var present = new HashSet<int>();
                await using var connection = new NpgsqlConnection(server.ConnectionString);
                await connection.OpenAsync();
                await using var select = new NpgsqlCommand("select id from acked", connection);
                await using var reader = await select.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                    present.Add(reader.GetInt32(0));
                var missing = acknowledged.Where(id => !present.Contains(id)).Order().ToList();
                Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged commits lost: {string.Join(", ", missing.Take(20))}");
                output.WriteLine($"{kills} server SIGKILLs, {acknowledged.Count} acknowledged commits, {present.Count} rows present");
                Assert.True(acknowledged.Count >= kills * 4, $"only {acknowledged.Count} commits were acknowledged: the writers did not run between kills");
                return;
            }

            using var stop = new CancellationTokenSource();
            var before = acknowledged.Count;
            var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                try
                {
                    await using var connection = new NpgsqlConnection(server.ConnectionString);
                    await connection.OpenAsync(stop.Token);
                    while (!stop.IsCancellationRequested)
                    {
                        var id = Interlocked.Increment(ref nextId);
                        await using var insert = new NpgsqlCommand($"insert into acked values ({id}, repeat('x', 200))", connection);
                        await insert.ExecuteNonQueryAsync(CancellationToken.None); // no token: Npgsql's cancel of a command on a connection the kill broke can throw on a timer thread (NullReferenceException), which ends the test process
                        acknowledged.Add(id); // only once the server said COMMIT
                    }
                }
                catch (Exception)
                {
                    // The kill cut the connection: whatever was not acknowledged may or may not be there.
                }
            })).ToList();
            // Kill while commits flow: a few acknowledged in this cycle, then a random moment in the flow of writes.
            await Eventually.WaitUntilAsync(() => acknowledged.Count >= before + 5, "commits acknowledged in this cycle", TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(0, 50)); // a random moment within the writes, not a wait for a state
            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
