using System.Diagnostics;

namespace ZeroPg.Engine.Native;

/// <summary>
/// Where the real PostgreSQL programs are: the configured directory, then <c>postgres</c> on PATH, then
/// <c>pg_config --bindir</c>, then the Debian layout (/usr/lib/postgresql/N/bin, newest N first).
/// </summary>
internal sealed record PostgresBinaries(string Directory)
{
    public string Postgres => Path.Combine(Directory, "postgres");
    public string Initdb => Path.Combine(Directory, "initdb");

    public static PostgresBinaries Find(string? configured)
    {
        foreach (var candidate in Candidates(configured))
        {
            if (File.Exists(Path.Combine(candidate, "postgres")) && File.Exists(Path.Combine(candidate, "initdb")))
                return new PostgresBinaries(candidate);
        }
        throw new InvalidOperationException(
            "--engine postgres needs PostgreSQL installed: no postgres and initdb found " +
            (configured is null ? "on PATH, by pg_config or in /usr/lib/postgresql/N/bin" : $"in {configured}") +
            " (Debian/Ubuntu: apt-get install postgresql; or point --postgres-bin at the bin directory).");
    }

    private static IEnumerable<string> Candidates(string? configured)
    {
        if (configured is { Length: > 0 })
        {
            yield return configured;
            yield break;
        }
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            yield return directory;
        if (PgConfigBinDir() is { } fromPgConfig)
            yield return fromPgConfig;
        if (System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            foreach (var version in System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                         .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var n) ? n : 0))
                yield return Path.Combine(version, "bin");
        }
    }

    private static string? PgConfigBinDir()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
                return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(5000);
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no pg_config on PATH
        }
    }
}
