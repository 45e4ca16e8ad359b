using ZeroPg.Platform.Linux;

namespace ZeroPg.Cli;

/// <summary>
/// SIGINT stops ZeroPg however it was started, as it stops Postgres. A job that a non-interactive shell starts in the
/// background (`zeropg serve &` in a script) and `nohup` inherit SIGINT ignored, an ignore survives exec, and .NET leaves a
/// SIGINT that was ignored at its start ignored: such a server outlived `kill -INT` and the ^C that ended its script.
/// Postgres sets its own SIGINT handler whatever it inherited; so does this, before .NET first looks at the signal.
/// </summary>
internal static class InheritedSignals
{
    /// <summary>Gives SIGINT its default action again when it was inherited ignored (Linux); first thing in Main.</summary>
    public static void ReclaimSigint()
    {
        if (OperatingSystem.IsLinux() && SigintIgnored())
            _ = LinuxLibc.Signal(LinuxLibc.SIGINT, LinuxLibc.SIG_DFL);
    }

    /// <summary>True when this process ignores SIGINT (/proc/self/status's SigIgn mask); false where that cannot be read.</summary>
    private static bool SigintIgnored()
    {
        try
        {
            return ProcFs.StatusField("self", "SigIgn") is { } mask && (Convert.ToUInt64(mask, 16) & (1UL << (LinuxLibc.SIGINT - 1))) != 0;
        }
        catch (FormatException)
        {
            return false; // leave the signal as it is
        }
    }
}
