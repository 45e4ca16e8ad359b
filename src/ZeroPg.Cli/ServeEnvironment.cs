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

    public static string Host() => Environment.GetEnvironmentVariable("ZEROPG_HOST") is { Length: > 0 } host ? host : "127.0.0.1";

    public static string Database() => Environment.GetEnvironmentVariable("ZEROPG_DB") is { Length: > 0 } db ? db : ZeroPgOptions.MemoryDatabase;
}
