namespace ZeroPg.Testing;

/// <summary>
/// Builds a <see cref="ZeroPgContainer"/> with the names Testcontainers' PostgreSqlBuilder uses where the meaning
/// is the same (WithDatabase, WithUsername, WithPassword), so a suite moves from a container to ZeroPg by
/// changing the builder's type. Defaults suit tests: memory://, a free port, a warm engine kept for the next server.
/// </summary>
public sealed class ZeroPgBuilder
{
    private readonly ZeroPgOptions _options = new() { KeepWarmEngine = true };

    /// <summary>The database the connection string names (POSTGRES_DB); made at start. Default: the username's, or postgres.</summary>
    public ZeroPgBuilder WithDatabase(string database)
    {
        _options.Database = database;
        return this;
    }

    /// <summary>The superuser role (POSTGRES_USER), created at start.</summary>
    public ZeroPgBuilder WithUsername(string username)
    {
        _options.Security.User = username;
        return this;
    }

    /// <summary>Its password (POSTGRES_PASSWORD); turns on SCRAM-SHA-256.</summary>
    public ZeroPgBuilder WithPassword(string password)
    {
        _options.Security.Password = password;
        return this;
    }

    /// <summary>A folder of *.sql files run in name order when the database is new (the image's /docker-entrypoint-initdb.d).</summary>
    public ZeroPgBuilder WithInitScripts(string folder)
    {
        _options.InitFolders.Add(folder);
        return this;
    }

    /// <summary>A server setting (postgres -c name=value).</summary>
    public ZeroPgBuilder WithSetting(string name, string value)
    {
        _options.PostgresSettings[name] = value;
        return this;
    }

    /// <summary>A data directory instead of memory://.</summary>
    public ZeroPgBuilder WithDataDirectory(string directory)
    {
        _options.DataDirectory = directory;
        return this;
    }

    /// <summary>Anything else of <see cref="ZeroPgOptions"/>.</summary>
    public ZeroPgBuilder WithOptions(Action<ZeroPgOptions> configure)
    {
        configure(_options);
        return this;
    }

    public ZeroPgContainer Build()
    {
        _options.Validate();
        return new ZeroPgContainer(_options);
    }
}
