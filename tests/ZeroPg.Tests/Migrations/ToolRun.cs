using System.Diagnostics;

namespace ZeroPg.Tests.Migrations;

/// <summary>Runs a migration tool (node, python3) the way its users do, with DATABASE_URL set.</summary>
public static class ToolRun
{
    public static string ToolsDirectory => Path.Combine(Infrastructure.RepoPaths.Root, "tests", "migrations");

    public static Task<(int Code, string Output)> RunAsync(string databaseUrl, string workingDirectory, string program, params string[] arguments)
        => RunAsync(databaseUrl, workingDirectory, program, arguments, []);

    public static async Task<(int Code, string Output)> RunAsync(string databaseUrl, string workingDirectory, string program, string[] arguments,
        params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(ToolsDirectory, workingDirectory),
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["DATABASE_URL"] = databaseUrl;
        start.Environment["NO_COLOR"] = "1";
        // Prisma's CLI checks for its native engines at start; its JS engine (WebAssembly) needs none of them.
        start.Environment["PRISMA_QUERY_ENGINE_LIBRARY"] = typeof(ToolRun).Assembly.Location;
        start.Environment["PRISMA_SCHEMA_ENGINE_BINARY"] = "/bin/false";
        start.Environment["PRISMA_HIDE_UPDATE_MESSAGE"] = "1";
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close(); // no terminal, no input: as in CI
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static async Task<string> RunOkAsync(string databaseUrl, string workingDirectory, string program, params string[] arguments)
    {
        var (code, output) = await RunAsync(databaseUrl, workingDirectory, program, arguments);
        Assert.True(code == 0, $"{program} {string.Join(' ', arguments)} exited {code}: {output}");
        return output;
    }
}
