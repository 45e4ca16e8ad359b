namespace ZeroPg.Cli;

/// <summary>
/// SIGINT stops ZeroPg however it was started, as it stops Postgres. A job that a non-interactive shell starts in the
/// background (`zeropg serve &` in a script) and `nohup` inherit SIGINT ignored, an ignore survives exec, and .NET leaves a
/// SIGINT that was ignored at its start ignored: such a server outlived `kill -INT` and the ^C that ended its script.
/// Postgres sets its own SIGINT handler whatever it inherited; so does this (<see cref="Platform.HostPlatform.ReclaimIgnoredSigint"/>).
/// </summary>
internal static class InheritedSignals
{
    /// <summary>Gives SIGINT its default action again when it was inherited ignored; first thing in Main.</summary>
    public static void ReclaimSigint() => Platform.HostPlatform.Current.ReclaimIgnoredSigint();
}
