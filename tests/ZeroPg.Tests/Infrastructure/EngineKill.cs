using System.Diagnostics;
using ZeroPg.Engine;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Ends ONE engine at once, as a crash would. A process of its own is SIGKILLed. A worker of the shared engine host is
/// terminated (worker.terminate(): it stops at once, inside WebAssembly too, and its host closes its channel as a dead
/// process's pipes close): killing the host's pid instead would end the engines of every server in this test process.
/// Either way it returns once the engine is dead (a worker's end is reported by its host: until then a statement could still
/// reach it), not once the server has noticed.
/// </summary>
internal static class EngineKill
{
    /// <summary>Kills the postgres database's engine; returns its <see cref="EngineProcess.Id"/>, to wait for another.</summary>
    public static Task<long> KillAsync(ZeroPgServer server) => KillAsync(server.RunningEngine ?? throw new InvalidOperationException("no engine runs"));

    public static async Task<long> KillAsync(EngineProcess engine)
    {
        if (engine.IsSharedHostWorker)
            await engine.KillAsync();
        else
            Process.GetProcessById(engine.ProcessId).Kill();
        return engine.Id;
    }
}
