using System.CommandLine;
using System.Text;
using System.Text.Json;
using ZeroPg.Compatibility;

namespace ZeroPg.Cli;

/// <summary>`zeropg check [PATH] [--format text|json]`: whether and how a project runs on ZeroPg. Exit 0 when it can, 1 when something it needs is missing, 2 on bad input.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "the project folder (or one file) to scan", DefaultValueFactory = _ => "." };
        var format = new Option<string>("--format") { Description = "text (default) or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("check", "Scan a project's migrations, schemas and manifests: the extensions it needs (bundled, loadable or not available), its drivers, what behaves differently on ZeroPg, and the `zeropg serve` command line to use. Exit code 0 when it can run, 1 when something it needs is missing.")
        {
            path, format,
        };
        command.SetAction(parse =>
        {
            CompatibilityReport report;
            try
            {
                report = ProjectScanner.Scan(parse.GetValue(path)!);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                Console.Error.WriteLine($"zeropg check: {error.Message}");
                return 2;
            }
            Console.Out.Write(parse.GetValue(format) == "json" ? Json(report) : Text(report));
            return report.CanRun ? 0 : 1;
        });
        return command;
    }

    internal static string Json(CompatibilityReport report)
        => JsonSerializer.Serialize(report, ReportJson) + "\n";

    // Readable text: an apostrophe or a + in a finding stays as it is.
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<CompatibilityReport> ReportJson = new CliJson(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }).CompatibilityReport;

    internal static string Text(CompatibilityReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(report.CanRun ? "Runs on ZeroPg." : "Does NOT run on ZeroPg as it is: something it needs is missing, or a migration fails (below).");
        text.AppendLine();
        text.AppendLine(report.Extensions.Count == 0 ? "Extensions: none needed." : "Extensions:");
        foreach (var extension in report.Extensions)
        {
            text.AppendLine($"  {extension.Name,-16} {extension.Status}{(extension.Advice is null ? "" : " - " + extension.Advice)}");
            foreach (var evidence in extension.Evidence.Take(5))
                text.AppendLine($"      {evidence.File}:{evidence.Line}: {evidence.Text}");
            if (extension.Evidence.Count > 5)
                text.AppendLine($"      ... and {extension.Evidence.Count - 5} more");
        }
        if (report.Migrations.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Migration folders:");
            foreach (var folder in report.Migrations)
            {
                text.AppendLine($"  {folder.Path} ({folder.Kind}, {folder.Migrations} migration{(folder.Migrations == 1 ? "" : "s")})");
                foreach (var problem in folder.Problems)
                    text.AppendLine($"      FAILS {problem.Evidence.File}:{problem.Evidence.Line}: {problem.Evidence.Text}\n        {problem.Message}");
            }
        }
        text.AppendLine();
        text.AppendLine(report.Drivers.Count == 0 ? "Drivers: none recognised." : "Drivers:");
        foreach (var driver in report.Drivers)
        {
            text.AppendLine($"  {driver.Name} ({driver.Ecosystem}{(driver.Version is null ? "" : " " + driver.Version)}){(driver.Supported ? "" : " NOT SUPPORTED")} - {driver.Evidence.File}:{driver.Evidence.Line}");
            foreach (var note in driver.Notes)
                text.AppendLine($"      {note}");
            if (driver.DsnParameter is not null)
                text.AppendLine($"      add to its connection string: {driver.DsnParameter}");
        }
        if (report.Warnings.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Behaves differently on ZeroPg:");
            foreach (var warning in report.Warnings)
            {
                text.AppendLine($"  {warning.Code}: {warning.Message}");
                foreach (var evidence in warning.Evidence.Take(3))
                    text.AppendLine($"      {evidence.File}:{evidence.Line}: {evidence.Text}");
                if (warning.Evidence.Count > 3)
                    text.AppendLine($"      ... and {warning.Evidence.Count - 3} more");
            }
        }
        text.AppendLine();
        text.AppendLine("Run it with:");
        text.AppendLine("  " + report.Command);
        return text.ToString();
    }
}
