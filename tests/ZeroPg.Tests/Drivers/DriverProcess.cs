using System.Diagnostics;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>Runs a driver's toolchain or program with its own environment and working directory, bounded in time.</summary>
public static class DriverProcess
{
    public static async Task<ExternalTool.Result> RunAsync(
        string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        start.Environment["PGCONNECT_TIMEOUT"] = "10";

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish in {limit.TotalSeconds:0} s; " +
                                       $"output so far:\n{await stdout}{await stderr}");
        }
        return new ExternalTool.Result(process.ExitCode, await stdout, await stderr);
    }
}
