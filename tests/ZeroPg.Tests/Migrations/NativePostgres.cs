using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ZeroPg.Tests.Migrations;

/// <summary>
/// A native PostgreSQL 15 (Debian postgresql-15) started by a test in a temporary directory, trust
/// authentication, loopback only: the reference to compare ZeroPg's behaviour with. Run as the postgres
/// user when the tests run as root (initdb refuses root).
/// </summary>
public sealed class NativePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;

    private NativePostgres(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static bool IsInstalled => File.Exists(Path.Combine(Bin, "initdb"));

    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false";

    public string Url(string database = "postgres") => $"postgresql://postgres@127.0.0.1:{Port}/{database}";

    public static async Task<NativePostgres> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"zeropg-native-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var server = new NativePostgres(directory, port);
        await RunAsync("chown", "-R", "postgres", directory);
        await AsPostgresAsync(Path.Combine(Bin, "initdb"), "-D", Path.Combine(directory, "data"), "-A", "trust", "-U", "postgres", "--no-sync");
        await AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", Path.Combine(directory, "data"), "-w", "-l", Path.Combine(directory, "log"),
            "-o", $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start");
        return server;
    }

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task AsPostgresAsync(params string[] arguments)
        => Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", .. arguments]) : RunAsync(arguments[0], arguments[1..]);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
