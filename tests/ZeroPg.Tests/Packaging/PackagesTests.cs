using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// The packages work outside the repository: both are packed into a temp feed, the tool is installed
/// into a temp tool path and the library into a new project, and each runs a query with the source
/// tree hidden (a private mount namespace lays an empty tmpfs over it), so nothing may come from it.
/// </summary>
public sealed partial class PackagesTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Tool_and_library_packages_run_a_query_with_the_source_tree_hidden()
    {
        var repo = RepoRoot();
        var work = Directory.CreateTempSubdirectory("zeropg-packages-").FullName;
        try
        {
            // A version of its own: the NuGet cache must not hand back an older package of the same version.
            var version = $"0.0.0-ci{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            var feed = Path.Combine(work, "feed");
            foreach (var project in (string[])["src/ZeroPg/ZeroPg.csproj", "src/ZeroPg.Cli/ZeroPg.Cli.csproj"])
                await Run("dotnet", ["pack", Path.Combine(repo, project), "-c", "Release", "-o", feed, $"-p:Version={version}"], repo);
            var config = Path.Combine(work, "nuget.config");
            await File.WriteAllTextAsync(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);

            var tools = Path.Combine(work, "tools");
            await Run("dotnet", ["tool", "install", "zeropg", "--tool-path", tools, "--configfile", config, "--version", version], work);
            var zeropg = Path.Combine(tools, "zeropg");
            var versionLine = await RunHidden(repo, $"'{zeropg}' --version", work);
            Assert.Matches(@"^zeropg 0\.0\.0-ci\d+ \(PostgreSQL 18\.\d+, PGlite ", versionLine.Trim());
            Assert.Equal("42", await QueryThroughTool(repo, zeropg, work));

            var app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ZeroPg.Server" Version="{version}" />
                    <PackageReference Include="Npgsql" Version="{NpgsqlVersion(repo)}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                await using var server = await ZeroPg.ZeroPgServer.StartAsync(o => o.Port = 0);
                await using var connection = new Npgsql.NpgsqlConnection(server.GetConnectionString());
                await connection.OpenAsync();
                await using var command = new Npgsql.NpgsqlCommand("select 'library:' || (6 * 7)", connection);
                Console.WriteLine(await command.ExecuteScalarAsync());
                """);
            File.Copy(config, Path.Combine(app, "nuget.config"));
            await Run("dotnet", ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app);
            var output = await RunHidden(repo, $"dotnet '{Path.Combine(app, "out", "app.dll")}'", app);
            Assert.Contains("library:42", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>`zeropg serve -p 0` from the installed tool, source tree hidden; a query through it.</summary>
    private static async Task<string> QueryThroughTool(string repo, string zeropg, string work)
    {
        var start = HiddenStart(repo, $"exec '{zeropg}' serve -p 0", work);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var ready = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"the installed zeropg exited before it was ready: {await stderr}");
            var port = System.Text.Json.JsonDocument.Parse(ready).RootElement.GetProperty("port").GetInt32();
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Pooling=false;Timeout=30");
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select (6 * 7)::text", connection);
            return (string)(await command.ExecuteScalarAsync())!;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static ProcessStartInfo HiddenStart(string repo, string script, string directory)
    {
        var start = new ProcessStartInfo("unshare") { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var argument in (string[])["-m", "sh", "-c", $"mount -t tmpfs none '{repo}' && {script}"])
            start.ArgumentList.Add(argument);
        return start;
    }

    private static async Task<string> RunHidden(string repo, string script, string directory)
    {
        var result = await ExternalTool.RunAsync("unshare", ["-m", "sh", "-c", $"cd '{directory}' && mount -t tmpfs none '{repo}' && {script}"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"{script} failed ({result.ExitCode}): {result.All}");
        return result.Stdout;
    }

    private static async Task Run(string program, string[] arguments, string directory)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }

    private static string NpgsqlVersion(string repo)
        => NpgsqlPackageVersion().Match(File.ReadAllText(Path.Combine(repo, "Directory.Packages.props"))).Groups[1].Value;

    [GeneratedRegex("Include=\"Npgsql\" Version=\"([^\"]+)\"")]
    private static partial Regex NpgsqlPackageVersion();

    private static string RepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ZeroPg.slnx")))
                return directory.FullName;
        }
        throw new InvalidOperationException("ZeroPg.slnx not found above the test assembly");
    }
}
