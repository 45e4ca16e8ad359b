using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace ZeroPg.Cli;

/// <summary>
/// How zeropg answers before any command runs, as Postgres's own tools do: help names the tool `zeropg` (System.CommandLine
/// would name the assembly, ZeroPg.Cli, which is what a `dotnet tool` runs), and a flag it does not know gets a short error
/// on stderr with where to look, stdout empty and exit code 1 (psql: "unrecognized option", "Try psql --help").
/// </summary>
internal static partial class CommandLineManners
{
    public const string ToolName = "zeropg";

    public static async Task<int> InvokeAsync(RootCommand root, string[] args, InvocationConfiguration configuration)
    {
        var parse = root.Parse(args);
        if (parse.Action is HelpAction)
        {
            var help = new StringWriter();
            var exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = help, Error = Console.Error });
            Console.Out.Write(Rename(help.ToString()));
            return exitCode;
        }
        if (parse.Errors.Count > 0)
        {
            var command = CommandPath(parse.CommandResult.Command);
            // "Required command was not provided" beside an unknown word says the same thing twice: the word is the news.
            var errors = parse.UnmatchedTokens.Count > 0
                ? parse.Errors.Where(e => !IsMissingCommand(e) || parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal)))
                : parse.Errors;
            foreach (var error in errors)
                Console.Error.WriteLine($"{command}: {InWords(error.Message)}");
            Console.Error.WriteLine($"Try '{command} --help' for more information.");
            return 1;
        }
        return await parse.InvokeAsync(configuration);
    }

    /// <summary>
    /// "Cannot parse argument 'abc' for option '--port' as expected type 'System.Int32'" says what the parser wanted in
    /// .NET's words; a user reads "--port expects a whole number, not 'abc'".
    /// </summary>
    internal static string InWords(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
            return message;
        var (value, option, type) = (match.Groups["value"].Value, match.Groups["option"].Value, match.Groups["type"].Value);
        var kind = type switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt16" or "System.UInt32" or "System.Byte" => "a whole number",
            "System.Double" or "System.Single" or "System.Decimal" => "a number (e.g. 1.5)",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration (e.g. 00:00:30)",
            "Microsoft.Extensions.Logging.LogLevel" => "one of Trace, Debug, Information, Warning, Error, Critical, None",
            _ => null,
        };
        return kind is null ? message : $"{option} expects {kind}, not '{value}'.";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*?)' for (option|argument) '(?<option>[^']+)' as expected type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    private static bool IsMissingCommand(System.CommandLine.Parsing.ParseError error)
        => error.SymbolResult is System.CommandLine.Parsing.CommandResult { Command.Subcommands.Count: > 0 };

    /// <summary>The usage lines name the tool as a user types it.</summary>
    internal static string Rename(string help)
        => AssemblyName().Replace(help, "$1" + ToolName);

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null and not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(0, c.Name);
        names.Insert(0, ToolName);
        return string.Join(' ', names);
    }

    [GeneratedRegex(@"(?m)^(\s*)ZeroPg\.Cli\b")]
    private static partial Regex AssemblyName();
}
