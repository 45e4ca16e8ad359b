using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace ZeroPg.Cli;

/// <summary>
/// `zeropg --version`: the tool's version and the Postgres and PGlite versions of the engine it runs,
/// read from the PGlite build that ships with it (its version string, as `select version()` shows it).
/// </summary>
internal static partial class VersionCommand
{
    public static void Install(RootCommand root)
    {
        foreach (var option in root.Options.OfType<VersionOption>())
            option.Action = new PrintVersion();
    }

    public static string Describe()
    {
        var tool = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = tool.IndexOf('+', StringComparison.Ordinal);
        var shortTool = plus < 0 ? tool : tool[..plus];
        return $"zeropg {shortTool} ({EngineVersion()})";
    }

    /// <summary>"PostgreSQL 18.7, PGlite 0.5.17", or why it cannot be told.</summary>
    private static string EngineVersion()
    {
        var wasm = Path.Combine(AppContext.BaseDirectory, "engine-host", "node_modules", "@electric-sql", "pglite", "dist", "pglite.wasm");
        if (!File.Exists(wasm))
            return "engine host not found next to the tool";
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(wasm));
        var match = VersionString().Match(text);
        return match.Success ? $"PostgreSQL {match.Groups[1].Value}, PGlite {match.Groups[2].Value}" : "PGlite version string not found";
    }

    [GeneratedRegex(@"PostgreSQL (\d+(?:\.\d+)?) \(PGlite (\d+\.\d+\.\d+)\)")]
    private static partial Regex VersionString();

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Describe());
            return 0;
        }
    }
}
