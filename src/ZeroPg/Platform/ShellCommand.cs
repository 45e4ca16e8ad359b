namespace ZeroPg.Platform;

/// <summary>A program and its arguments that run one command line through a shell (<see cref="HostPlatform.Shell"/>).</summary>
internal sealed record ShellCommand(string FileName, IReadOnlyList<string> Arguments, string? RawArguments = null)
{
    /// <summary>A start info for it: arguments as a list, or (cmd.exe, which parses its own command line) as one raw string.</summary>
    public System.Diagnostics.ProcessStartInfo StartInfo()
    {
        var start = new System.Diagnostics.ProcessStartInfo(FileName) { UseShellExecute = false };
        if (RawArguments is not null)
            start.Arguments = RawArguments;
        else
            foreach (var argument in Arguments)
                start.ArgumentList.Add(argument);
        return start;
    }
}
