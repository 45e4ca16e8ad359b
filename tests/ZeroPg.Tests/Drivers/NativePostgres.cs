using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Native PostgreSQL 15 (Debian postgresql-15) started from /usr/lib/postgresql/15/bin in a temp directory: the
/// reference every driver program is first run against, so a script's expectations are Postgres's, not ours.
/// Runs as the postgres user when the tests run as root (initdb refuses root), as bench/run.sh does.
/// </summary>
public sealed class NativePostgres : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    private readonly string _directory;
    private readonly string[] _runAs;

    private NativePostgres(string directory, string[] runAs, int port)
    {
        _directory = directory;
        _runAs = runAs;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A libpq URL, the form every driver program takes.</summary>
    public string Url => $"postgresql://postgres@127.0.0.1:{Port}/postgres";

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    public static async Task<NativePostgres> StartAsync()
    {
        foreach (var program in new[] { "initdb", "pg_ctl", "postgres" })
        {
            if (!File.Exists(Path.Combine(BinDirectory, program)))
                throw new InvalidOperationException(
                    $"{BinDirectory}/{program} is missing: the driver tests compare with native PostgreSQL 15; run `apt-get install -y postgresql-15` (.ci/run does).");
        }
        string[] runAs = [];
        if (Environment.UserName == "root")
        {
            if ((await RunAsync(["id", "-u", "postgres"], [])).ExitCode != 0)
                throw new InvalidOperationException("running as root, and there is no postgres user to run native PostgreSQL as (postgresql-15 creates it)");
            runAs = ["runuser", "-u", "postgres", "--"];
        }

        var directory = Directory.CreateTempSubdirectory("zeropg-native-").FullName;
        var socketDirectory = Path.Combine(directory, "sock");
        Directory.CreateDirectory(socketDirectory);
        if (runAs.Length > 0)
            Check(await RunAsync(["chown", "-R", "postgres", directory], []), "chown");
        var data = Path.Combine(directory, "data");
        Check(await RunAsync([$"{BinDirectory}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"], runAs), "initdb");

        var port = FreePort();
        var options = $"-p {port} -c listen_addresses=127.0.0.1 -k {socketDirectory} -c max_connections=100 " +
                      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC";
        var server = new NativePostgres(directory, runAs, port);
        try
        {
            Check(await RunAsync([$"{BinDirectory}/pg_ctl", "-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60", "-o", options, "start"], runAs), "pg_ctl start");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        var data = Path.Combine(_directory, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
            await RunAsync([$"{BinDirectory}/pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], _runAs);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file the stopping server still writes: the temp directory is left for the OS to clean.
        }
    }

    private static void Check(ExternalResult result, string step)
    {
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"native PostgreSQL {step} failed ({result.ExitCode}): {result.Stdout}{result.Stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record ExternalResult(int ExitCode, string Stdout, string Stderr);

    private static async Task<ExternalResult> RunAsync(string[] command, string[] runAs)
    {
        string[] full = [.. runAs, .. command];
        var start = new ProcessStartInfo(full[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in full.Skip(1))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return new ExternalResult(process.ExitCode, await stdout, await stderr);
    }
}
