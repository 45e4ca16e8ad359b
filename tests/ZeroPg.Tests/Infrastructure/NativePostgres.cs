using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// A native PostgreSQL 15 server (Debian's postgresql-15, /usr/lib/postgresql/15/bin), started for
/// the tests in a temporary directory on a free port with trust authentication, UTF8, C.UTF-8 and UTC:
/// the reference ZeroPg's behaviour is compared with. Run as the "postgres" user when the tests run as
/// root (Postgres refuses to run as root). A fixture (<see cref="IAsyncLifetime"/>), or started by a test
/// (<see cref="StartAsync"/>, disposed with await using).
/// </summary>
public sealed class NativePostgres : IAsyncLifetime, IAsyncDisposable
{
    public const string DefaultBin = "/usr/lib/postgresql/15/bin";

    private string _directory = "";
    private int _databases;

    public int Port { get; private set; }

    /// <summary>More server settings (name=value), e.g. wal_level=logical for the replication differential.</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    public string SocketDirectory => _directory;

    /// <summary>postgresql://postgres@127.0.0.1:PORT/postgres</summary>
    public string Url(string database = "postgres", string user = "postgres") => $"postgresql://{user}@127.0.0.1:{Port}/{database}";

    /// <summary>Unpooled unless <paramref name="pooled"/> (a test of a pool's own behaviour).</summary>
    public string ConnectionString(string database = "postgres", bool pooled = false)
        => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}" + (pooled ? "" : ";Pooling=false");

    public static bool IsInstalled => File.Exists(Path.Combine(BinDirectory, "postgres"));

    /// <summary>A server started now with these more settings (name=value); stopped when disposed.</summary>
    public static async Task<NativePostgres> StartAsync(params string[] settings)
    {
        var server = new NativePostgres { Settings = settings };
        try
        {
            await server.InitializeAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private static string BinDirectory => Environment.GetEnvironmentVariable("ZEROPG_TEST_PGBIN") is { Length: > 0 } bin ? bin : DefaultBin;

    public async Task InitializeAsync()
    {
        if (!IsInstalled)
            throw new InvalidOperationException($"native PostgreSQL 15 is not installed in {BinDirectory}: run `apt-get install -y postgresql-15` (.ci/run does).");
        // Short and without spaces: the socket path must fit in 107 bytes.
        _directory = Path.Combine("/tmp", $"zpg-native-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(_directory);
        if (Environment.UserName == "root")
            await RunAsync("chown", ["postgres", _directory], asPostgres: false);
        await RunAsync(Path.Combine(BinDirectory, "initdb"), ["-D", Path.Combine(_directory, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"]);
        // The free port is found before the postmaster binds it: in the parallel suite another test's server took one in that
        // moment (the postmaster's "could not bind ... Address already in use"), so a start that lost its port tries another.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "log"), "-w", "-t", "60",
                    "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                          $"-c max_connections=100 -c timezone=UTC{string.Concat(Settings.Select(s => " -c " + s))}", "start"]);
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && LostItsPort())
            {
            }
        }
    }

    /// <summary>The postmaster's log says the port was taken when it came to bind it.</summary>
    private bool LostItsPort()
        => File.Exists(Path.Combine(_directory, "log")) && File.ReadAllText(Path.Combine(_directory, "log")).Contains("Address already in use", StringComparison.Ordinal);

    /// <summary>A new, empty database; its URL.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "db")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return Url(name);
    }

    public async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        if (_directory.Length == 0)
            return;
        try
        {
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
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
            // A file the stopping server still writes: the temp directory is left for the OS to clean.
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo(asPostgres && Environment.UserName == "root" ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/", // readable by the postgres user it may run as
        };
        if (start.FileName == "runuser")
        {
            foreach (var a in new[] { "-u", "postgres", "--", program })
                start.ArgumentList.Add(a);
        }
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var output = await stdout + await stderr;
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{program} failed ({process.ExitCode}): {output}"));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class NativePostgresCollection : ICollectionFixture<NativePostgres>
{
    public const string Name = "native postgres";
}
