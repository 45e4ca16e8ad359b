using Aspire.Hosting.ApplicationModel;
using ZeroPg;

namespace Aspire.Hosting;

/// <summary>
/// A ZeroPg server run by the AppHost itself (PGlite in a Node engine host: no Docker, no container). Its
/// connection string has the shape of Aspire's Postgres server resource, so referencing projects and the
/// Aspire.Npgsql client integrations see no difference.
/// </summary>
public sealed class ZeroPgServerResource : Resource, IResourceWithConnectionString, IResourceWithWaitSupport
{
    private readonly Dictionary<string, string> _databases = new(StringComparer.Ordinal);

    public ZeroPgServerResource(string name, ParameterResource? userName, ParameterResource password) : base(name)
    {
        UserNameParameter = userName;
        PasswordParameter = password;
        PrimaryEndpoint = new ZeroPgEndpoint(this, "tcp");
        DashboardEndpoint = new ZeroPgEndpoint(this, "http");
    }

    /// <summary>The user clients log in as; null is "postgres".</summary>
    public ParameterResource? UserNameParameter { get; }

    /// <summary>The password clients log in with (SCRAM-SHA-256, as the Postgres image).</summary>
    public ParameterResource PasswordParameter { get; }

    /// <summary>The Postgres listener: host and port are known once the server has started.</summary>
    public ZeroPgEndpoint PrimaryEndpoint { get; }

    /// <summary>ZeroPg's live dashboard, /healthz and /metrics (HTTP).</summary>
    public ZeroPgEndpoint DashboardEndpoint { get; }

    /// <summary>The databases added with AddDatabase: resource name to database name.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    /// <summary>What the server is started with; the builder methods fill it.</summary>
    internal ZeroPgOptions Options { get; } = new() { HttpPort = 0 };

    internal ReferenceExpression UserNameReference => UserNameParameter is null
        ? ReferenceExpression.Create($"postgres")
        : ReferenceExpression.Create($"{UserNameParameter}");

    /// <summary>Host=...;Port=...;Username=...;Password=... (Npgsql's keywords, as Aspire's Postgres server resource).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Host};Port={PrimaryEndpoint.Port};Username={UserNameReference};Password={PasswordParameter}");

    internal void AddDatabase(string resourceName, string databaseName) => _databases.TryAdd(resourceName, databaseName);
}
