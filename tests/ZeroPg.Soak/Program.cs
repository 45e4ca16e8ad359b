using System.Globalization;
using System.Text.Json;
using ZeroPg.Soak;

// dotnet ZeroPg.Soak.dll --db DIR [--minutes 60] [--copy-mb 50] [--pgbench-rate TPS] [--report FILE.json] [--cli ZeroPg.Cli.dll]
//     [--inject-lost-commit] [--stop-on-failure]
// Exit code 0 when every check passed, 1 when one failed, 2 on bad arguments. bench/soak.sh builds and runs it.
string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
if (Value("--db") is not { } db)
{
    Console.Error.WriteLine("usage: ZeroPg.Soak --db DIR [--minutes N] [--copy-mb N] [--pgbench-rate TPS] [--report FILE] [--cli ZeroPg.Cli.dll] [--inject-lost-commit] [--stop-on-failure]");
    return 2;
}
var options = new SoakOptions
{
    DataDirectory = Path.GetFullPath(db),
    Minutes = double.Parse(Value("--minutes") ?? "60", CultureInfo.InvariantCulture),
    CopyMegabytes = int.Parse(Value("--copy-mb") ?? "50", CultureInfo.InvariantCulture),
    PgbenchRate = int.Parse(Value("--pgbench-rate") ?? "0", CultureInfo.InvariantCulture),
    CliAssembly = Value("--cli") ?? Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"),
    InjectLostCommit = args.Contains("--inject-lost-commit"),
    StopOnFailure = args.Contains("--stop-on-failure"),
};
var result = await new SoakRun(options).RunAsync();
var reportPath = Value("--report") ?? options.DataDirectory.TrimEnd('/') + ".soak.json";
await File.WriteAllTextAsync(reportPath, JsonSerializer.Serialize(result.Report, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine(result.Text);
Console.WriteLine($"report: {reportPath}");
return result.Passed ? 0 : 1;
