using System.Diagnostics;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>Runs a real Postgres client program (psql, pgbench) from Debian's postgresql-client.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    public static async Task<Result> RunAsync(string program, IEnumerable<string> arguments, string? stdin = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null,
        System.Text.Encoding? outputEncoding = null)
    {
        var path = Find(program);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // Latin1 keeps every byte as one char: output in a client encoding other than UTF8 compares byte for byte.
            StandardOutputEncoding = outputEncoding,
            StandardErrorEncoding = outputEncoding,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["PGCONNECT_TIMEOUT"] = "10";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            // What it printed before it was stopped says how far it got (node's test runner: which test was running).
            throw new TimeoutException($"{program} did not finish in {timeout ?? TimeSpan.FromSeconds(120)}: {Tail(await stdout)}{Tail(await stderr)}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string Tail(string output) => output.Length <= 4000 ? output : "..." + output[^4000..];

    /// <summary>The program's path; fails with how to install it (the tests need real clients, .ci/run installs them).</summary>
    public static string Find(string program)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException($"{program} is not installed: run `apt-get install -y {(program == "chromium" ? "chromium" : "postgresql-client")}` (.ci/run does).");
    }
}
