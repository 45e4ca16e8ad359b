using Npgsql;
using ZeroPg.Security;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Security;

/// <summary>A ZeroPg server with the postgres role's password set (SCRAM-SHA-256) and a TLS certificate, as a cloud-style deployment runs it.</summary>
public sealed class SecuredServerFixture : IAsyncLifetime
{
    public const string Password = "s3cret pass;word";
    private readonly TempDirectory _directory = new("zeropg-tls");

    public ZeroPgServer Server { get; private set; } = null!;

    /// <summary>The certificate the server presents (self-signed for localhost and 127.0.0.1): clients trust it as their root.</summary>
    public string CertificateFile => Path.Combine(_directory.Path, ServerCertificate.CertificateFileName);

    public async Task InitializeAsync()
    {
        using (ServerCertificate.SelfSigned(_directory.Path, "127.0.0.1"))
        {
        }
        Server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            Security = new SecurityOptions
            {
                Password = Password,
                TlsCertificateFile = CertificateFile,
                TlsKeyFile = Path.Combine(_directory.Path, ServerCertificate.KeyFileName),
            },
        }, TestLogging.Factory);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _directory.Dispose();
    }

    public string ConnectionString(string user = "postgres", string password = Password, string extra = "")
        => new NpgsqlConnectionStringBuilder($"Host=127.0.0.1;Port={Server.Port};Database=postgres;Pooling=false;{extra}") { Username = user, Password = password }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(string user = "postgres", string password = Password, string extra = "")
    {
        var connection = new NpgsqlConnection(ConnectionString(user, password, extra));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>libpq's environment for psql: the password, and (with <paramref name="sslMode"/>) the root certificate.</summary>
    public Dictionary<string, string> PsqlEnvironment(string password = Password, string sslMode = "disable") => new()
    {
        ["PGPASSWORD"] = password,
        ["PGSSLMODE"] = sslMode,
        ["PGSSLROOTCERT"] = CertificateFile,
    };
}

[CollectionDefinition(Name)]
public sealed class SecuredServerCollection : ICollectionFixture<SecuredServerFixture>
{
    public const string Name = "secured server";
}
