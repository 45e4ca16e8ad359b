using System.Text.Json;
using Npgsql;
using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Fuzz;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>
/// The fuzzer's probe of a server it did not start (`--port P --server-pid PID --http-port H`): it follows the engine of the
/// witness's database as the server names it (/api/status) and counts its restarts and the kills (/metrics). With
/// --engine-host process a spare engine, or a new database's, is another node child of the server: the probe watched the
/// first node child, so a spare taking over fz_db looked like an engine death and stopped a 20-minute run at 222 s.
/// </summary>
public sealed class FuzzServerProbeTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Spares_and_databases_coming_and_going_are_no_death_and_a_kill_of_the_database_s_engine_is_one()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            EngineHost = EngineHostMode.Process,
            SpareDatabaseEngine = SpareEngineMode.Always,
            HttpPort = 0,
        }, TestLogging.Factory);
        var http = $"http://{server.Host}:{server.HttpPort}";
        // The server runs in this process: its node children are this process's (other tests' engines too: the probe must not care).
        var probe = ServerProbe.OfProcess(Environment.ProcessId, http);
        await Eventually.WaitUntilAsync(async () => await SparePidAsync(http) is not null, "a spare engine runs", TimeSpan.FromSeconds(60));
        var start = probe.EngineIdentity();
        Assert.Equal(server.EngineProcessId, probe.EngineProcessId());
        Assert.Contains($"pid {server.EngineProcessId}", start);

        // A spare taken by each CREATE DATABASE (its process now serves fz_db), another started, the database dropped (its process ends).
        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            for (var i = 0; i < 3; i++)
            {
                var spare = await WaitForSpareAsync(http);
                await connection.ExecAsync("CREATE DATABASE fz_db");
                await connection.ExecAsync("DROP DATABASE fz_db");
                await Eventually.WaitUntilAsync(() => !CliProcessRuns(spare), "the spare that became fz_db ended with it", TimeSpan.FromSeconds(60));
                Assert.NotEqual(spare, probe.EngineProcessId());
                Assert.Equal(start, probe.EngineIdentity());
            }
        }

        // The test hook's kill of postgres's engine: a death, counted by the server, seen by the probe.
        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "the engine restarted", TimeSpan.FromSeconds(60));
        await Eventually.WaitUntilAsync(() => probe.EngineIdentity() != start, "the probe saw the engine change", TimeSpan.FromSeconds(30));
        await Eventually.WaitUntilAsync(() => probe.Counts()?.Restarts == 1 && probe.EngineProcessId() == server.EngineProcessId,
            "the probe counts one restart and follows the new engine", TimeSpan.FromSeconds(30));
    }

    private static async Task<int> WaitForSpareAsync(string http)
    {
        int? pid = null;
        await Eventually.WaitUntilAsync(async () => (pid = await SparePidAsync(http)) is not null, "a spare engine runs", TimeSpan.FromSeconds(60));
        return pid!.Value;
    }

    private static async Task<int?> SparePidAsync(string http)
    {
        using var status = JsonDocument.Parse(await Http.GetStringAsync(http + "/api/status"));
        foreach (var engine in status.RootElement.GetProperty("engines").EnumerateArray())
        {
            if (engine.GetProperty("role").GetString() == "spare")
                return engine.GetProperty("pid").GetInt32();
        }
        return null;
    }

    private static bool CliProcessRuns(int pid) => ZeroPg.Tests.Cli.CliProcess.IsRunning(pid);
}
