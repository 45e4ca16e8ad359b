using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// --upstream: ZeroPg pools a PostgreSQL 15 it did not start, which accepts TCP only over TLS with a SCRAM password. Clients
/// authenticate to ZeroPg (SCRAM against the upstream's own verifiers); the backends log in with the URL's credentials.
/// </summary>
public sealed class UpstreamPoolTests
{
    private const string Password = "upstream-secret";

    [Fact]
    public async Task The_pool_serves_a_postgres_it_did_not_start_over_tls_with_a_password()
    {
        var certificates = Path.Combine("/tmp", $"zp-up-{Guid.NewGuid():N}"[..16]);
        Directory.CreateDirectory(certificates);
        try
        {
            await WriteSelfSignedAsync(certificates);
            await using var upstream = await NativePostgres.StartAsync("ssl=on", $"ssl_cert_file={certificates}/server.crt", $"ssl_key_file={certificates}/server.key");
            await upstream.ExecuteAsync("postgres", $"ALTER ROLE postgres PASSWORD '{Password}'");
            // From here on TCP needs TLS and the password (the Unix socket stays trusted, for the fixture's own teardown).
            await File.WriteAllTextAsync(Path.Combine(upstream.SocketDirectory, "data", "pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n");
            await upstream.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
            await using (var plain = new NpgsqlConnection(upstream.ConnectionString() + $";Password={Password};SSL Mode=Disable"))
                Assert.Equal("28000", (await Assert.ThrowsAsync<PostgresException>(() => plain.OpenAsync())).SqlState);

            await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
            {
                Engine = EngineKind.Postgres,
                Upstream = $"postgresql://postgres:{Password}@127.0.0.1:{upstream.Port}/postgres?sslmode=require",
                PoolSize = 3,
                Security = new ZeroPg.Security.SecurityOptions { User = "postgres", Password = Password },
            }, TestLogging.Factory);

            var clients = new List<NpgsqlConnection>();
            try
            {
                for (var i = 0; i < 6; i++)
                {
                    var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
                    await client.OpenAsync();
                    clients.Add(client);
                }
                Assert.Equal(true, await clients[0].ScalarAsync("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
                Assert.StartsWith("PostgreSQL 15", await clients[1].TextAsync("SELECT version()"));
                foreach (var client in clients)
                    Assert.Equal(1, await client.ScalarAsync("SELECT 1"));
                Assert.InRange((long)(await clients[5].ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))!, 1L, 3L);
            }
            finally
            {
                foreach (var client in clients)
                    await client.DisposeAsync();
            }

            var wrong = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Password = "wrong", Pooling = false };
            await using var refused = new NpgsqlConnection(wrong.ConnectionString);
            Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => refused.OpenAsync())).SqlState);
        }
        finally
        {
            Directory.Delete(certificates, recursive: true);
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and its key, owned by the user postgres runs as (the key 0600, as postgres insists).</summary>
    private static async Task WriteSelfSignedAsync(string folder)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var crt = Path.Combine(folder, "server.crt");
        var pem = Path.Combine(folder, "server.key");
        await File.WriteAllTextAsync(crt, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(pem, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(pem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (Environment.UserName == "root")
        {
            var chown = await ExternalTool.RunAsync("chown", ["-R", "postgres", folder]);
            Assert.True(chown.ExitCode == 0, chown.All);
        }
    }
}
