using System.Runtime.InteropServices;

namespace ZeroPg.Cli;

/// <summary>
/// SIGINT stops ZeroPg however it was started, as it stops Postgres. A job that a non-interactive shell starts in the
/// background (`zeropg serve &` in a script) and `nohup` inherit SIGINT ignored, an ignore survives exec, and .NET leaves a
/// SIGINT that was ignored at its start ignored: such a server outlived `kill -INT` and the ^C that ended its script.
/// Postgres sets its own SIGINT handler whatever it inherited; so does this, before .NET first looks at the signal.
/// </summary>
internal static partial class InheritedSignals
{
    private const int Sigint = 2;
    private const nint DefaultAction = 0; // SIG_DFL

    /// <summary>Gives SIGINT its default action again when it was inherited ignored (Linux); first thing in Main.</summary>
    public static void ReclaimSigint()
    {
        if (OperatingSystem.IsLinux() && SigintIgnored())
            _ = Signal(Sigint, DefaultAction);
    }

    /// <summary>True when this process ignores SIGINT (/proc/self/status); false where that cannot be read.</summary>
    private static bool SigintIgnored()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (Sigint - 1))) != 0;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
            // an unreadable /proc: leave the signal as it is
        }
        return false;
    }

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signal, nint handler);
}
