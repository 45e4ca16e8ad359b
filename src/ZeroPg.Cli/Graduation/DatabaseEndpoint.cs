using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// A database the graduation commands read or write: a running server given by URL, or a ZeroPg
/// data directory, which gets a private server of its own for the duration (started on a Unix socket
/// in a 0700 temp directory, so no one else can connect). Starting that server takes the
/// directory's lock, so a directory a server is serving is refused with that server's pid.
/// </summary>
internal sealed class DatabaseEndpoint : IAsyncDisposable
{
    private readonly ZeroPgServer? _server;
    private readonly DirectoryInfo? _socketDirectory;

    private DatabaseEndpoint(PostgresUrl url, string description, ZeroPgServer? server, DirectoryInfo? socketDirectory, string? dataDirectory)
    {
        Url = url;
        Description = description;
        _server = server;
        _socketDirectory = socketDirectory;
        DataDirectory = dataDirectory;
    }

    public PostgresUrl Url { get; }

    /// <summary>"data directory /x" or the URL without its password.</summary>
    public string Description { get; }

    /// <summary>The data directory, when this is one.</summary>
    public string? DataDirectory { get; }

    /// <summary>Where dump.mjs connects: {path} for a Unix socket, else {host, port}.</summary>
    public JsonObject DumpConnect => Url.IsUnixSocket ? new JsonObject { ["path"] = Url.SocketFile } : new JsonObject { ["host"] = Url.Host, ["port"] = Url.Port };

    /// <summary>A URL, as it is; or an existing ZeroPg data directory, served privately.</summary>
    public static async Task<DatabaseEndpoint> OpenAsync(string database, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (PostgresUrl.LooksLikeUrl(database))
        {
            var url = PostgresUrl.Parse(database);
            return new DatabaseEndpoint(url, url.ToString(), null, null, null);
        }
        var directory = Path.GetFullPath(database);
        if (!File.Exists(Path.Combine(directory, "PG_VERSION")))
            throw new GraduationException($"{directory} is not a ZeroPg data directory (it has no PG_VERSION file).");
        return await ServeAsync(directory, [], loggers, cancellationToken);
    }

    /// <summary>Serves a data directory (existing or new) on a private socket, preloading the given extensions.</summary>
    public static async Task<DatabaseEndpoint> ServeAsync(string directory, IReadOnlyList<string> extensions, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var socketDirectory = Directory.CreateTempSubdirectory("zeropg-");
        var options = new ZeroPgOptions
        {
            DataDirectory = directory,
            DisableTcp = true,
            UnixSocketPath = socketDirectory.FullName,
            Port = 5432,
            MaxConnections = 8,
            Extensions = [.. extensions],
        };
        try
        {
            var server = await ZeroPgServer.StartAsync(options, loggers, cancellationToken);
            var url = new PostgresUrl(socketDirectory.FullName, 5432, "postgres", "postgres", null, null);
            return new DatabaseEndpoint(url, $"data directory {directory}", server, socketDirectory, directory);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            socketDirectory.Delete(recursive: true);
            if (error.Message.Contains("in use by another ZeroPg server", StringComparison.Ordinal))
                throw new GraduationException(error.Message, "A server is serving it: use its URL (--db postgresql://...) or stop it first.");
            throw new GraduationException($"could not open {directory}: {error.Message}");
        }
    }

    public Npgsql.NpgsqlConnection CreateConnection(string applicationName)
        => new(Url.ConnectionString(applicationName).ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        try
        {
            _socketDirectory?.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A graduation command cannot go on: what happened, and what to do about it.</summary>
internal class GraduationException(string message, string? hint = null, Exception? inner = null) : Exception(message, inner)
{
    public string? Hint { get; } = hint;
}
