using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Security;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>A pooled server with TLS, SCRAM and a Unix socket: on Linux its clients are served by the pool's own event loop.</summary>
public sealed class PoolEventLoopFixture : IAsyncLifetime
{
    public const string Password = "loop pass";
    private readonly TempDirectory _directory = new("zeropg-loop");

    public ZeroPgServer Server { get; private set; } = null!;

    public string Directory => _directory.Path;

    public async Task InitializeAsync()
    {
        using (ServerCertificate.SelfSigned(_directory.Path, "127.0.0.1"))
        {
        }
        Server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            Engine = EngineKind.Postgres,
            PostgresBinDirectory = NativePostgres.DefaultBin,
            MaxConnections = 20,
            PoolSize = 2,
            PoolWaitTimeout = TimeSpan.FromSeconds(60),
            PostgresSettings = { ["shared_buffers"] = "32MB" },
            UnixSocketPath = _directory.Path,
            Security = new SecurityOptions
            {
                Password = Password,
                TlsCertificateFile = Path.Combine(_directory.Path, ServerCertificate.CertificateFileName),
                TlsKeyFile = Path.Combine(_directory.Path, ServerCertificate.KeyFileName),
            },
        }, TestLogging.Factory);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _directory.Dispose();
    }

    public async Task<NpgsqlConnection> OpenAsync(SslMode sslMode)
    {
        var builder = new NpgsqlConnectionStringBuilder($"Host=127.0.0.1;Port={Server.Port};Database=postgres;Pooling=false")
        {
            Username = "postgres", Password = Password, SslMode = sslMode, Timeout = 60, CommandTimeout = 120,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}

/// <summary>
/// The pool's own event loop (<c>PoolEventLoop</c>, Linux) keeps what Kestrel's transport gave: TLS and SCRAM in front, a Unix
/// socket, and results and COPY data far beyond the sockets' and pipes' buffers both ways (sends that wait for room, reads paused
/// while a client's input pipe is full), with several clients over fewer backends at once.
/// </summary>
public sealed class PoolEventLoopTests(PoolEventLoopFixture fixture) : IClassFixture<PoolEventLoopFixture>
{
    private const int Rows = 200_000; // ~21 MB of COPY text each way

    [Theory]
    [InlineData(SslMode.Disable)]
    [InlineData(SslMode.Require)]
    public async Task Clients_over_TLS_or_not_copy_megabytes_in_and_out_through_the_pool(SslMode sslMode) // Require: Npgsql fails unless TLS is set up
    {
        var table = $"loop_{sslMode}".ToLowerInvariant();
        await using (var setup = await fixture.OpenAsync(sslMode))
        {
            await using var create = new NpgsqlCommand($"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int, pad text)", setup);
            await create.ExecuteNonQueryAsync();
        }
        // Three clients at once over two backends: their COPY statements take turns on the backends.
        await Task.WhenAll(Enumerable.Range(0, 3).Select(async client =>
        {
            await using var connection = await fixture.OpenAsync(sslMode);
            var pad = new string((char)('a' + client), 100);
            await using (var writer = await connection.BeginTextImportAsync($"COPY {table} FROM STDIN"))
            {
                for (var i = 0; i < Rows; i++)
                    await writer.WriteAsync($"{client * Rows + i}\t{pad}\n");
            }
            var read = 0L;
            var sum = 0L;
            using (var reader = await connection.BeginTextExportAsync($"COPY (SELECT id, pad FROM {table} WHERE pad = '{pad}' ORDER BY id) TO STDOUT"))
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    read++;
                    sum += long.Parse(line.AsSpan(0, line.IndexOf('\t')));
                    if (read % 50_000 == 0)
                        await Task.Delay(1); // a slow reader: the server's sends wait for room
                }
            }
            Assert.Equal(Rows, read);
            Assert.Equal(Enumerable.Range(client * Rows, Rows).Sum(i => (long)i), sum);
        }));
    }

    [Fact]
    public async Task On_Linux_pooled_clients_come_through_the_loops_own_listener()
    {
        var before = ZeroPg.Platform.Linux.EpollListener.Accepted;
        await using var connection = await fixture.OpenAsync(SslMode.Disable);
        Assert.Equal(1, await new NpgsqlCommand("SELECT 1", connection).ExecuteScalarAsync());
        Assert.Equal(OperatingSystem.IsLinux(), ZeroPg.Platform.Linux.EpollListener.Accepted > before);
    }

    [Fact]
    public async Task A_psql_client_over_the_Unix_socket_runs_a_transaction()
    {
        var result = await ExternalTool.RunAsync("psql", ["-h", fixture.Directory, "-p", fixture.Server.Port.ToString(), "-U", "postgres", "-d", "postgres", "-XAt",
            "-c", "BEGIN", "-c", "SELECT 40 + 2", "-c", "COMMIT"], environment: new Dictionary<string, string> { ["PGPASSWORD"] = PoolEventLoopFixture.Password });
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("42", result.Stdout);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_transaction_frees_its_backend_for_the_others()
    {
        for (var i = 0; i < 3; i++) // more than the pool's two backends: each is given back when its client goes
        {
            var connection = await fixture.OpenAsync(SslMode.Disable);
            await new NpgsqlCommand("BEGIN; SELECT 1", connection).ExecuteNonQueryAsync();
            await connection.DisposeAsync();
        }
        await using var last = await fixture.OpenAsync(SslMode.Disable);
        Assert.Equal(7, await new NpgsqlCommand("SELECT 7", last).ExecuteScalarAsync());
    }
}
