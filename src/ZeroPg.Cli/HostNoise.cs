using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli;

/// <summary>
/// The HTTP port's framework logs, kept out of a default `zeropg serve` stderr: ASP.NET Core's per-request lines
/// (84 of 101 stderr lines of a short session with the dashboard open) and the generic host's start and stop lines
/// ("Now listening on: http://..." names the Postgres port as http; "Hosting failed to start" is a stack trace
/// for a condition the CLI reports in one line itself). They appear with --log-level Debug or Trace, at the level
/// they were written; their warnings and errors always do, except the host's own start failure, which the CLI reports.
/// </summary>
internal static class HostNoise
{
    public static Func<string?, LogLevel, bool> Keep(LogLevel minimum) => (category, level) =>
    {
        if (level < minimum)
            return false;
        if (minimum <= LogLevel.Debug || category is null)
            return true;
        if (category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal))
            return level >= LogLevel.Critical;
        if (category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || category.StartsWith("Microsoft.Hosting.Lifetime", StringComparison.Ordinal))
            return level >= LogLevel.Warning;
        return true;
    };
}
