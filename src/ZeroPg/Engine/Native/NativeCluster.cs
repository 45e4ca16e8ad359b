using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine.Native;

/// <summary>
/// A real PostgreSQL server (postmaster) that ZeroPg runs for <c>--engine postgres</c>: initdb on a new
/// directory (memory://: a temporary one, removed at stop), started listening only on a Unix socket in a
/// private directory, which <see cref="Server.NativeConnectionHandler"/> passes client connections to, one
/// backend each. Postgres refuses to run as root, so as root it runs as the <c>postgres</c> user (runuser) and
/// the directories become that user's. Thread: started and stopped by the server; read by handlers.
/// </summary>
internal sealed partial class NativeCluster : IAsyncDisposable
{
    private readonly ZeroPgOptions _options;
    private readonly ILogger _logger;
    private readonly PostgresBinaries _binaries;
    private readonly bool _temporary;
    // Its socket and, on memory://, its cluster: a killed server's are removed, and their postmaster stopped, by the next
    // ZeroPg process (Hosting/KilledProcessLeftovers).
    private readonly Hosting.OwnedTempFolder _folder = new(Hosting.KilledProcessLeftovers.NativePostgres);
    private Process? _process;

    public NativeCluster(ZeroPgOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _binaries = PostgresBinaries.Find(options.PostgresBinDirectory);
        _temporary = options.IsMemory;
        DataDirectory = _temporary ? Path.Combine(_folder.Path, "data") : Path.GetFullPath(options.DataDirectory);
        // A Unix socket path must fit in 107 bytes: the folder unless the temporary directory's path is long.
        SocketDirectory = _folder.Path.Length + SocketLockName.Length < 100 ? _folder.Path : Path.Combine("/tmp", $"zpn-{Guid.NewGuid():N}"[..16]);
    }

    /// <summary>
    /// With --pool, ZeroPg authenticates clients itself (SCRAM against this server's pg_authid) and its backends log in as their
    /// client's role: the socket trusts them, and only this OS user (and root) may open it (unix_socket_permissions 0700).
    /// </summary>
    private string WritePoolHba()
    {
        var file = Path.Combine(SocketDirectory, "pool_hba.conf");
        File.WriteAllText(file, "# ZeroPg's pool: clients authenticate to ZeroPg; its backends connect over this private socket\nlocal all all trust\n");
        return file;
    }

    private const string SocketLockName = "/.s.PGSQL.5432.lock";

    public string DataDirectory { get; }

    public string SocketDirectory { get; }

    /// <summary>The socket the backends listen on (the port number in its name is only a name).</summary>
    public string SocketFile => Path.Combine(SocketDirectory, ".s.PGSQL.5432");

    /// <summary>The postmaster's process id once it runs.</summary>
    public int? ProcessId { get; private set; }

    public string Version { get; private set; } = "";

    public bool IsReady { get; private set; }

    private static bool AsRoot => Environment.UserName == "root";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _folder.Ensure();
        Directory.CreateDirectory(SocketDirectory);
        Directory.CreateDirectory(DataDirectory);
        var poolHba = _options.PoolSize is not null ? WritePoolHba() : null;
        EngineDirectoryKind.EnsureUsableBy(EngineKind.Postgres, DataDirectory);
        if (AsRoot)
            await Platform.HostPlatform.Current.GiveToUserAsync("postgres", [DataDirectory, SocketDirectory], recursive: true, cancellationToken);
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
            await InitdbAsync(cancellationToken);
        Version = File.ReadAllText(Path.Combine(DataDirectory, "PG_VERSION")).Trim();
        await StopOrphanAsync(cancellationToken);
        var arguments = new List<string> { "-D", DataDirectory, "-k", SocketDirectory, "-c", "listen_addresses=", "-p", "5432",
            "-c", $"max_connections={_options.MaxConnections}" };
        if (poolHba is not null)
            arguments.AddRange(["-c", $"hba_file={poolHba}", "-c", "unix_socket_permissions=0700"]);
        // PGlite's defaults where initdb would take the machine's: the same SQL gives the same answers on both engines.
        if (!_options.PostgresSettings.Keys.Any(k => k.Equals("timezone", StringComparison.OrdinalIgnoreCase)))
            arguments.AddRange(["-c", "TimeZone=UTC", "-c", "log_timezone=UTC"]);
        if (!_options.PostgresSettings.Keys.Any(k => k.Equals("search_path", StringComparison.OrdinalIgnoreCase)))
            arguments.AddRange(["-c", "search_path=public"]);
        foreach (var (name, value) in _options.PostgresSettings)
        {
            arguments.Add("-c");
            arguments.Add($"{name}={value}");
        }
        if (_temporary)
            arguments.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        _process = Process.Start(StartInfo(_binaries.Postgres, arguments, asPostgres: true))!;
        _ = DrainAsync(_process.StandardOutput);
        _ = DrainAsync(_process.StandardError);
        await WaitReadyAsync(cancellationToken);
        Hosting.KilledProcessLeftovers.SweepOnce();
        Log.Started(_logger, ProcessId ?? 0, Version, DataDirectory);
    }

    /// <summary>
    /// initdb into a new directory beside the data directory, then moved in: initdb wants an empty directory,
    /// and the data directory already holds ZeroPg's lock.
    /// </summary>
    private async Task InitdbAsync(CancellationToken cancellationToken)
    {
        var fresh = DataDirectory.TrimEnd(Path.DirectorySeparatorChar) + $".initdb-{Guid.NewGuid():N}";
        Directory.CreateDirectory(fresh);
        try
        {
            if (AsRoot)
                await Platform.HostPlatform.Current.GiveToUserAsync("postgres", [fresh], recursive: false, cancellationToken);
            await InitdbAsync(fresh, cancellationToken);
            foreach (var entry in Directory.EnumerateFileSystemEntries(fresh))
            {
                var target = Path.Combine(DataDirectory, Path.GetFileName(entry));
                if (Directory.Exists(entry))
                    Directory.Move(entry, target);
                else
                    File.Move(entry, target);
            }
        }
        finally
        {
            TryDelete(fresh);
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // postgres insists on 0700
        EngineDirectoryKind.Mark(DataDirectory);
    }

    private async Task InitdbAsync(string directory, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "-D", directory, "-U", _options.Security.User, "-E", "UTF8", "--locale=C.UTF-8" };
        string? passwordFile = null;
        if (_options.Security.Password is { } password)
        {
            passwordFile = Path.Combine(SocketDirectory, "pw");
            await File.WriteAllTextAsync(passwordFile, password + "\n", cancellationToken);
            if (AsRoot)
                await Platform.HostPlatform.Current.GiveToUserAsync("postgres", [passwordFile], recursive: false, cancellationToken);
            arguments.AddRange(["--pwfile", passwordFile, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256"]);
        }
        else
            arguments.AddRange(["-A", "trust"]);
        if (_temporary)
            arguments.Add("--no-sync");
        try
        {
            await RunAsync(_binaries.Initdb, arguments, asPostgres: true, cancellationToken);
        }
        finally
        {
            if (passwordFile is not null)
                File.Delete(passwordFile);
        }
    }

    /// <summary>A postmaster left running on this directory by a server that was killed: stopped before starting anew.</summary>
    private async Task StopOrphanAsync(CancellationToken cancellationToken)
    {
        using var orphan = RunningPostmaster(DataDirectory); // none running: postgres removes a stale lock file itself
        if (orphan is null)
            return;
        Log.StoppingOrphan(_logger, orphan.Id);
        Platform.HostPlatform.Current.Signal(orphan.Id, Platform.StopSignal.Interrupt);
        await orphan.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>The postgres process that <paramref name="dataDirectory"/>'s postmaster.pid names, if it runs.</summary>
    private static Process? RunningPostmaster(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
            return null;
        try
        {
            var process = Process.GetProcessById(pid);
            if (process.ProcessName.StartsWith("postgres", StringComparison.Ordinal))
                return process;
            process.Dispose();
            return null;
        }
        catch (ArgumentException)
        {
            return null; // not running
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        var deadline = DateTime.UtcNow + _options.EngineStartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"PostgreSQL {Version} exited at start (code {_process.ExitCode}): {string.Join(" | ", _lastLines)}");
            try
            {
                // Line 8 of postmaster.pid is the postmaster's status; "ready" once it accepts connections.
                var lines = File.Exists(pidFile) ? File.ReadAllLines(pidFile) : [];
                if (lines.Length >= 8 && lines[7].Trim() == "ready" && File.Exists(SocketFile))
                {
                    ProcessId = int.Parse(lines[0], CultureInfo.InvariantCulture);
                    IsReady = true;
                    return;
                }
            }
            catch (IOException)
            {
                // Being written; read again.
            }
            await Task.Delay(20, cancellationToken);
        }
        throw new TimeoutException($"PostgreSQL did not become ready within {_options.EngineStartTimeout.TotalSeconds:0} s: {string.Join(" | ", _lastLines)}");
    }

    private readonly Queue<string> _lastLines = new();

    private async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lastLines)
            {
                _lastLines.Enqueue(line);
                if (_lastLines.Count > 20)
                    _lastLines.Dequeue();
            }
            Log.ServerLine(_logger, line);
        }
    }

    /// <summary>Fast shutdown (SIGINT): sessions are ended, a checkpoint is written; SIGQUIT if that takes too long.</summary>
    public async ValueTask DisposeAsync()
    {
        IsReady = false;
        if (ProcessId is { } pid && _process is { HasExited: false })
        {
            Platform.HostPlatform.Current.Signal(pid, Platform.StopSignal.Interrupt);
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                Platform.HostPlatform.Current.Signal(pid, Platform.StopSignal.Quit);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        else if (_process is { HasExited: false })
            _process.Kill(entireProcessTree: true);
        _process?.Dispose();
        if (SocketDirectory != _folder.Path)
            TryDelete(SocketDirectory);
        _folder.Dispose();
    }

    /// <summary>
    /// Before the folder of a killed server is removed: stops the postmaster it left running on a memory:// cluster there
    /// (SIGKILL: the cluster goes with the folder; its backends see their postmaster die and exit). Only a postgres process
    /// whose command line names that cluster.
    /// </summary>
    internal static void StopAbandoned(string folder)
    {
        var data = Path.Combine(folder, "data");
        try
        {
            using var orphan = RunningPostmaster(data);
            if (orphan is null || Platform.HostPlatform.Current.CommandLine(orphan.Id) is not { } arguments || !arguments.Contains(data))
                return;
            orphan.Kill();
            orphan.WaitForExit(10_000);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidOperationException
            or System.ComponentModel.Win32Exception)
        {
            // no cluster, no such process, or not ours to stop
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static ProcessStartInfo StartInfo(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var viaRunuser = asPostgres && AsRoot;
        var start = new ProcessStartInfo(viaRunuser ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        if (viaRunuser)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", program])
                start.ArgumentList.Add(argument);
        }
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["LC_ALL"] = "C.UTF-8";
        return start;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        using var process = Process.Start(StartInfo(program, arguments, asPostgres))!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed (exit {process.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}");
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "native PostgreSQL {Version} started: pid {Pid}, data directory {Directory}")]
        public static partial void Started(ILogger logger, int pid, string version, string directory);

        [LoggerMessage(Level = LogLevel.Warning, Message = "stopping PostgreSQL pid {Pid} left running on this data directory by a server that was killed")]
        public static partial void StoppingOrphan(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Debug, Message = "postgres: {Line}")]
        public static partial void ServerLine(ILogger logger, string line);
    }
}
