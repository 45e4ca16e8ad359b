using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// One backend of the pool: a connection ZeroPg logged in once (<see cref="PoolTarget"/>), its BackendKeyData (where a client's
/// cancel goes) and the settings it reported. Lent whole to one client at a time by <see cref="BackendPool"/>; that client's
/// <see cref="PooledClient"/> writes to it and reads from it. Thread: its holder.
/// </summary>
internal sealed class PooledBackend : IAsyncDisposable
{
    private readonly Stream _stream;

    private PooledBackend(Stream stream, PoolKey key)
    {
        _stream = stream;
        Key = key;
        Reader = new BackendReader(stream);
    }

    public PoolKey Key { get; }

    public BackendReader Reader { get; }

    public int ProcessId { get; private set; }

    public int SecretKey { get; private set; }

    /// <summary>What the backend reported at login (ParameterStatus): the greeting a client of this key gets.</summary>
    public List<(string Name, string Value)> Parameters { get; } = [];

    /// <summary>The application_name the backend session has now: set at login, then to each client's as it is lent (<see cref="PooledClient"/>).</summary>
    public string ApplicationName { get; set; } = LoginApplicationName;

    public const string LoginApplicationName = "zeropg pool";

    /// <summary>What takes a backend back to its login's settings and role (RESET ALL leaves a SET ROLE).</summary>
    public const string ResetSql = "RESET ALL;RESET ROLE";

    /// <summary>
    /// The session settings the backend holds beyond its login's, as <see cref="PooledSettings.Sql"/> renders them: empty after
    /// login or a reset (<see cref="ResetSql"/>), null when unknown (a preamble failed). A client whose settings differ gets a reset and its own first.
    /// </summary>
    public string? Settings { get; set; } = "";

    /// <summary>What auto-prepare made on this backend (<see cref="AutoPreparedRuns"/>).</summary>
    public BackendStatements Statements { get; } = new();

    /// <summary>Set when a write or read failed, or the backend's state is unknown: the pool closes it instead of lending it again.</summary>
    public bool Broken { get; set; }

    public static async Task<PooledBackend> ConnectAsync(PoolTarget target, PoolKey key, CancellationToken cancellationToken)
    {
        var stream = await target.ConnectAsync(cancellationToken);
        var backend = new PooledBackend(stream, key);
        try
        {
            var wire = new WireClient(stream);
            var replies = await wire.StartupAsync([("user", key.User), ("database", key.Database), ("application_name", LoginApplicationName)],
                target.PasswordFor(key.User), cancellationToken);
            foreach (var reply in replies)
            {
                switch ((BackendCode)reply[0])
                {
                    case BackendCode.ErrorResponse:
                        var error = ErrorReply.Parse(reply);
                        throw new PgErrorException(PgError.Fatal(error.SqlState ?? SqlState.ConnectionFailure, error.Message ?? "the backend refused the login",
                            error.Hint, error.Detail));
                    case BackendCode.BackendKeyData:
                        var reader = new WireReader(reply.AsSpan(MessageFramer.HeaderLength));
                        backend.ProcessId = reader.ReadInt32();
                        backend.SecretKey = reader.ReadInt32();
                        break;
                    case BackendCode.ParameterStatus:
                        var status = ParameterStatusReply.Parse(reply);
                        backend.Parameters.Add((status.Name, status.Value));
                        break;
                }
            }
            if (replies.Count == 0 || replies[^1][0] != (byte)BackendCode.ReadyForQuery)
                throw new IOException($"{target.Describe()} closed the connection during a backend's login");
            return backend;
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) => _stream.WriteAsync(bytes, cancellationToken);

    public Task FlushAsync(CancellationToken cancellationToken = default) => _stream.FlushAsync(cancellationToken);

    /// <summary>ZeroPg's own simple Query on the backend (a reset, a role lookup): the text rows of its results; its first error thrown.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        await WriteAsync(WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes(sql), 0]), cancellationToken);
        await FlushAsync(cancellationToken);
        var rows = new List<string?[]>();
        PgError? failed = null;
        while (true)
        {
            var message = await Reader.ReadAsync(cancellationToken) ?? throw new IOException("the backend closed the connection during ZeroPg's query");
            switch ((BackendCode)message.Span[0])
            {
                case BackendCode.DataRow:
                    rows.Add(TextRow.Parse(message.Span).Columns);
                    break;
                case BackendCode.ErrorResponse:
                    var error = ErrorReply.Parse(message.Span);
                    failed ??= PgError.Error(error.SqlState ?? SqlState.InternalError, error.Message ?? "error", error.Hint, error.Detail);
                    break;
                case BackendCode.ReadyForQuery:
                    if (failed is not null)
                        throw new PgErrorException(failed);
                    return rows;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Broken)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _stream.WriteAsync(WireClient.Typed(FrontendCode.Terminate, []), quick.Token);
                await _stream.FlushAsync(quick.Token);
            }
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
        await _stream.DisposeAsync();
    }
}
