using System.Globalization;
using ZeroPg;
using Microsoft.Extensions.Logging;
using ZeroPg.Fuzz;

// dotnet run --project tests/ZeroPg.Fuzz -c Release -- [--seed N] [--clients N] [--messages N] [--seconds N]
//     [--witness-bound S] [--quiet-ms MS] [--copy-sweep 0|1]   (every COPY-mode shape once first; default 1)
//     [--port P --server-pid PID [--http-port H]]         (a server already running; with H its /metrics count kills and restarts of postgres's
//                                                          engine and /api/status names that engine's process; without H the server's
//                                                          oldest node child is watched; else a server in this process:)
//     [--db memory://|DIR] [--engine-host shared|process] (the in-process server's database and engine host)
//     [--replay SEED:CLIENT:INDEX,...]                   (send those cases, one after another, to a fresh server)
//     [--describe SEED:CLIENT:INDEX,...]                 (print those cases' messages and bytes)
var arguments = Arguments.Parse(args);
var options = new FuzzOptions
{
    Seed = arguments.Int("seed", Environment.TickCount & 0xFFFF),
    Clients = arguments.Int("clients", 4),
    MaxMessages = arguments.Long("messages", 0),
    Duration = TimeSpan.FromSeconds(arguments.Int("seconds", 0)),
    WitnessBound = TimeSpan.FromSeconds(arguments.Int("witness-bound", 10)),
    ProgressEvery = TimeSpan.FromSeconds(arguments.Int("progress", 30)),
    CaseQuiet = TimeSpan.FromMilliseconds(arguments.Int("quiet-ms", 500)),
    CopySweep = arguments.Int("copy-sweep", 1) != 0,
};
if (options.MaxMessages == 0 && options.Duration == TimeSpan.Zero && arguments.Get("replay") is null)
    options.Duration = TimeSpan.FromSeconds(60);

if (arguments.Get("describe") is { } describe)
{
    foreach (var id in describe.Split(','))
        Console.WriteLine(CaseGenerator.Make(FuzzCaseId.Parse(id)).Describe());
    return 0;
}

if (arguments.Get("port") is { } portText)
{
    var port = int.Parse(portText, CultureInfo.InvariantCulture);
    var host = arguments.Get("host") ?? "127.0.0.1";
    var probe = ServerProbe.OfProcess(arguments.Int("server-pid", 0),
        arguments.Get("http-port") is { } httpPort ? $"http://{host}:{httpPort}" : null);
    var connectionString = $"Host={host};Port={port};Username=postgres;Database=postgres;Pooling=false";
    if (arguments.Get("replay") is { } replayThere)
        return await ReplayAsync(replayThere, host, port, connectionString, probe, options.WitnessBound);
    return await RunAsync(new FuzzRun(options, host, port, connectionString, probe));
}

// The server's warnings (an engine's last words included) go to stderr.
using var logging = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Warning)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
{
    MaxConnections = 200,
    DataDirectory = arguments.Get("db") ?? ZeroPgOptions.MemoryDatabase,
    EngineHost = arguments.Get("engine-host") is "process" ? ZeroPg.Engine.EngineHostMode.Process : ZeroPg.Engine.EngineHostMode.Shared,
}, logging);
var witnessConnection = server.GetConnectionString() + ";Pooling=false";
if (arguments.Get("replay") is { } replay)
    return await ReplayAsync(replay, server.Host, server.Port, witnessConnection, ServerProbe.Of(server), options.WitnessBound);
return await RunAsync(new FuzzRun(options, server.Host, server.Port, witnessConnection, ServerProbe.Of(server)));

static async Task<int> ReplayAsync(string cases, string host, int port, string witnessConnection, ServerProbe probe, TimeSpan witnessBound)
{
    var report = await Replay.RunAsync(cases.Split(',').Select(FuzzCaseId.Parse).ToList(), host, port, witnessConnection, probe, witnessBound);
    Console.WriteLine(report ?? "replayed: no stall, the engine lived");
    return report is null ? 0 : 1;
}

static async Task<int> RunAsync(FuzzRun run)
{
    var report = await run.RunAsync();
    Console.WriteLine(report);
    return report.Passed ? 0 : 1;
}

internal sealed class Arguments(Dictionary<string, string> values)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --name value, got '{args[i]}'");
            values[args[i][2..]] = args[++i];
        }
        return new Arguments(values);
    }

    public string? Get(string name) => values.GetValueOrDefault(name);

    public int Int(string name, int fallback) => Get(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public long Long(string name, long fallback) => Get(name) is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;
}
