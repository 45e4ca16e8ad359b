using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// A client library's test program under tests/drivers/: <c>program &lt;postgres-url&gt; &lt;case&gt;</c> prints its results
/// and exits non-zero with a message when a check fails. Finding the toolchain and building happen once, on first use;
/// a missing toolchain fails the test with the package to install (.ci/run installs them all).
/// </summary>
public sealed class DriverProgram(string name, Func<Task<DriverProgram.Invocation>> prepare)
{
    public sealed record Invocation(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string>? Environment = null);

    private readonly Lazy<Task<Invocation>> _invocation = new(prepare);

    public string Name { get; } = name;

    public async Task<ExternalTool.Result> RunAsync(string url, string @case, TimeSpan? timeout = null)
    {
        var invocation = await _invocation.Value;
        return await DriverProcess.RunAsync(invocation.FileName, [.. invocation.Arguments, url, @case], invocation.Environment,
            timeout: timeout ?? TimeSpan.FromSeconds(90));
    }

    public override string ToString() => Name;

    /// <summary>Fails with how to install what is missing.</summary>
    public static string Require(string path, string install)
    {
        if (File.Exists(path) || Directory.Exists(path))
            return path;
        throw new InvalidOperationException($"{path} is missing: run `apt-get install -y {install}` (.ci/run installs the drivers' packages).");
    }

    public static string DriverSource(params string[] parts) => Path.Combine([RepoPaths.Root, "tests", "drivers", .. parts]);

    /// <summary>The toolchain's version line, part of a build's cache key.</summary>
    public static async Task<string> VersionAsync(string program, params string[] arguments)
    {
        var result = await DriverProcess.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(30));
        return result.All.Trim();
    }

    public static async Task BuildStepAsync(string what, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string workingDirectory)
    {
        var result = await DriverProcess.RunAsync(program, arguments, environment, workingDirectory, TimeSpan.FromMinutes(8));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{what} failed ({result.ExitCode}):\n{result.All}");
    }
}
