using System.CommandLine.Parsing;
using System.Globalization;

namespace ZeroPg.Cli;

/// <summary>
/// Defaults of `zeropg serve` taken from the environment, as the Postgres image and tools read them:
/// ZEROPG_* first, then the Postgres names (PGPORT), then the platform's (PORT). A flag wins over all.
/// </summary>
internal static class ServeEnvironment
{
    public static int Port(ArgumentResult result)
    {
        foreach (var name in (string[])["ZEROPG_PORT", "PGPORT", "PORT"])
        {
            if (Environment.GetEnvironmentVariable(name) is not { Length: > 0 } value)
                continue;
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
                return port;
            result.AddError($"{name}={value} is not a TCP port (0-65535)");
            return 0;
        }
        return 5432;
    }

    /// <summary>--engine-host's default: ZEROPG_SHARED_ENGINE_HOST=0 is process, 1 (or unset) shared.</summary>
    public static string EngineHost(ArgumentResult result)
    {
        var value = Environment.GetEnvironmentVariable(Engine.EngineHostModes.EnvironmentVariable)?.Trim();
        if (value is null or "" or "1")
            return "shared";
        if (value == "0")
            return "process";
        result.AddError($"{Engine.EngineHostModes.EnvironmentVariable}={value} is neither 1 (the shared engine host) nor 0 (a process per engine)");
        return "shared";
    }

    /// <summary>ZEROPG_PASSWORD, else POSTGRES_PASSWORD as the official Postgres image reads it.</summary>
    public static string? Password()
        => Environment.GetEnvironmentVariable("ZEROPG_PASSWORD") is { Length: > 0 } own ? own
            : Environment.GetEnvironmentVariable("POSTGRES_PASSWORD") is { Length: > 0 } image ? image : null;

    /// <summary>ZEROPG_USER, else POSTGRES_USER as the official Postgres image reads it, else postgres.</summary>
    public static string User()
        => Environment.GetEnvironmentVariable("ZEROPG_USER") is { Length: > 0 } own ? own
            : Environment.GetEnvironmentVariable("POSTGRES_USER") is { Length: > 0 } image ? image : "postgres";

    /// <summary>ZEROPG_DATABASE, else POSTGRES_DB as the Postgres image reads it.</summary>
    public static string? DatabaseName()
        => Environment.GetEnvironmentVariable("ZEROPG_DATABASE") is { Length: > 0 } own ? own
            : Environment.GetEnvironmentVariable("POSTGRES_DB") is { Length: > 0 } image ? image : null;

    /// <summary>ZEROPG_INIT: init folders separated by the path separator.</summary>
    public static string[] Init()
        => (Environment.GetEnvironmentVariable("ZEROPG_INIT") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>-c name=value pairs; a word without '=' is refused with the flag's own words.</summary>
    public static Dictionary<string, string> Settings(IEnumerable<string> assignments)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assignment in assignments)
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw new ArgumentException($"-c {assignment}: expected name=value, e.g. -c work_mem=64MB");
            settings[assignment[..equals].Trim().Replace('-', '_')] = assignment[(equals + 1)..];
        }
        return settings;
    }

    /// <summary>
    /// The start's warm-up statements (ZeroPgOptions.StartWarmUpStatements). Off by default: it costs the start 2-4 s of CPU
    /// (the ready line, and so every reopen's first answer, seconds later on two cores) for first 5,000 statements that cost a
    /// third of the CPU (bench/findings/first-seconds.md).
    /// </summary>
    public static int WarmUp() => int.TryParse(Environment.GetEnvironmentVariable("ZEROPG_WARM_UP"), out var n) ? n : DefaultWarmUp;

    public const int DefaultWarmUp = 0;

    public static string SplitCores() => Environment.GetEnvironmentVariable("ZEROPG_SPLIT_CORES") is { Length: > 0 } split ? split : "auto";

    public static string Host() => Environment.GetEnvironmentVariable("ZEROPG_HOST") is { Length: > 0 } host ? host : "127.0.0.1";

    public static string Database() => Environment.GetEnvironmentVariable("ZEROPG_DB") is { Length: > 0 } db ? db : ZeroPgOptions.MemoryDatabase;
}
