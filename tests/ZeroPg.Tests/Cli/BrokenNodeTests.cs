namespace ZeroPg.Tests.Cli;

/// <summary>
/// A Node that cannot run on this machine (the bundled one on a system too old for it, a wrong $ZEROPG_NODE) ends `zeropg serve`
/// with one clear line, and what Node itself said is in the log: the shared engine host starts before Node is checked, so
/// its failure must not read as an engine's (a snapshot deleted, initdb tried, a host restarted).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BrokenNodeTests
{
    [Fact]
    public async Task A_node_that_cannot_run_fails_the_start_with_one_line_and_its_own_words()
    {
        using var directory = new ZeroPg.Tests.Engine.TempDirectory();
        var node = directory.Sub("node");
        await File.WriteAllTextAsync(node, "#!/bin/sh\necho 'node: /lib/libc.so.6: version GLIBC_2.99 not found (required by node)' >&2\nexit 1\n");
        File.SetUnixFileMode(node, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var cli = CliProcess.Start(new Dictionary<string, string> { ["ZEROPG_NODE"] = node, ["ZEROPG_CACHE_DIR"] = directory.Sub("cache") },
            "--port", "0", "--db", directory.Sub("db"));
        Assert.Equal(1, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains($"{node} is not a working Node.js", cli.Stderr);
        Assert.Contains("GLIBC_2.99 not found", cli.Stderr);
        Assert.DoesNotContain("initdb", cli.Stderr);
        Assert.DoesNotContain("restart in a new one", cli.Stderr);
    }

    [Fact]
    public async Task A_node_that_is_not_executable_fails_the_start_with_the_same_line()
    {
        using var directory = new ZeroPg.Tests.Engine.TempDirectory();
        var node = directory.Sub("node");
        await File.WriteAllTextAsync(node, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(node, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        await using var cli = CliProcess.Start(new Dictionary<string, string> { ["ZEROPG_NODE"] = node, ["ZEROPG_CACHE_DIR"] = directory.Sub("cache") },
            "--port", "0", "--db", directory.Sub("db"));
        Assert.Equal(1, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"{node} is not a working Node.js", cli.Stderr);
    }
}
