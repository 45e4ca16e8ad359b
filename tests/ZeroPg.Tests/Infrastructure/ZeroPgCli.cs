namespace ZeroPg.Tests.Infrastructure;

/// <summary>Runs `zeropg COMMAND ...` (the built CLI) as a child process, the way a user does.</summary>
public static class ZeroPgCli
{
    public static Task<ExternalTool.Result> RunAsync(IEnumerable<string> arguments, string? stdin = null, TimeSpan? timeout = null)
        => ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"), .. arguments], stdin, timeout ?? TimeSpan.FromMinutes(5));
}
