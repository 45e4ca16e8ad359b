using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace ZeroPg.Engine;

/// <summary>
/// The Node.js that runs the engine host: the one asked for (ZeroPgOptions.NodePath, else $ZEROPG_NODE), else the
/// one the packages carry for this machine (engine-host/runtime/&lt;rid&gt;/bin/node, see <see cref="BundledNode"/>), else
/// `node` on PATH; checked once per process to be version 20 or newer, so a missing or old Node fails the start
/// with one clear line instead of a start timeout or a WebAssembly error from inside PGlite.
/// </summary>
internal static class NodeRuntime
{
    public const string EnvironmentVariable = "ZEROPG_NODE";
    public const int MinimumMajorVersion = 20;
    private const string DefaultCommand = "node";

    private static readonly ConcurrentDictionary<string, Lazy<string>> Checked = new(StringComparer.Ordinal);

    /// <summary>The full path of a Node.js new enough to run the engine host; throws <see cref="NodeNotFoundException"/> otherwise.</summary>
    public static string Resolve(string? configured)
        => Checked.GetOrAdd(Requested(configured), r => new Lazy<string>(() => Check(r))).Value;

    /// <summary>
    /// The full path <see cref="Resolve"/> checks and returns, without checking it (null when there is no such file): to start
    /// the shared engine host while the check runs.
    /// </summary>
    public static string? Locate(string? configured) => FindExecutable(Requested(configured));

    private static string Requested(string? configured)
        => !string.IsNullOrEmpty(configured) && configured != DefaultCommand
            ? configured
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : BundledNode() ?? DefaultCommand;

    /// <summary>
    /// The Node.js the tool and library packages carry (npm's node-&lt;os&gt;-&lt;arch&gt; package, pinned by
    /// src/ZeroPg/node-runtime/RID/package-lock.json), next to the engine host, for this machine's OS and architecture;
    /// null when the packages carry none for it (a build from source, another platform): then Node on PATH.
    /// </summary>
    internal static string? BundledNode()
    {
        if (RuntimeFolder() is not { } rid)
            return null;
        foreach (var engineHost in EngineHostLocator.Candidates(null))
        {
            var node = Path.Combine(engineHost, "runtime", rid, "bin", Platform.HostPlatform.Current.ExecutableNames("node")[0]);
            if (!File.Exists(node))
                continue;
            // NuGet does not keep Unix file modes when it extracts a package: make it executable once.
            if (!Platform.HostPlatform.Current.IsExecutable(node) && !Platform.HostPlatform.Current.MakeExecutable(node))
                continue;
            return node;
        }
        return null;
    }

    /// <summary>linux-x64, osx-arm64, win-x64, ...: the folder of this machine's Node (<see cref="Platform.HostPlatform.NodeRuntimeFolder"/>).</summary>
    private static string? RuntimeFolder() => Platform.HostPlatform.Current.NodeRuntimeFolder(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture);

    private static string Check(string requested)
    {
        var source = requested == DefaultCommand ? "on PATH" : $"({EnvironmentVariable} or ZeroPgOptions.NodePath)";
        var path = FindExecutable(requested)
            ?? throw new NodeNotFoundException($"ZeroPg needs Node.js {MinimumMajorVersion} or newer to run its PGlite engine, and `{requested}` was not found {source}: {InstallHint()} or set {EnvironmentVariable} to its path.");
        var version = ReadVersion(path);
        if (version is null || version.Major < MinimumMajorVersion)
            throw new NodeNotFoundException($"ZeroPg needs Node.js {MinimumMajorVersion} or newer to run its PGlite engine; {path} is {(version is null ? "not a working Node.js" : $"v{version}")}: {InstallHint()} or set {EnvironmentVariable} to its path.");
        return path;
    }

    private static string InstallHint() => Platform.HostPlatform.Current.NodeInstallHint(MinimumMajorVersion);

    /// <summary>A path as given, or the first executable of that name on PATH (on Windows also NAME.exe, as cmd finds it).</summary>
    internal static string? FindExecutable(string name)
    {
        if (name.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || name.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        var names = Platform.HostPlatform.Current.ExecutableNames(name);
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidateName in names)
            {
                var candidate = Path.Combine(directory, candidateName);
                if (File.Exists(candidate) && IsExecutable(candidate))
                    return candidate;
            }
        }
        return null;
    }

    private static bool IsExecutable(string path) => Platform.HostPlatform.Current.IsExecutable(path);

    private static Version? ReadVersion(string path)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return null;
            }
            return process.ExitCode == 0 && Version.TryParse(output.TrimStart('v'), out var version) ? version : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }
}

/// <summary>No usable Node.js: the message is the one line to show.</summary>
internal sealed class NodeNotFoundException(string message) : InvalidOperationException(message);
