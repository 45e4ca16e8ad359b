using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions.Statements;

/// <summary>
/// What the one engine session holds on behalf of all clients: the named statements (by text and
/// parameter types, shared by every client that parsed the same), which client's unnamed statement is
/// current, and the statements ZeroPg auto-prepared (<see cref="Auto"/>). Shared by all sessions of the
/// engine, and not only by the one holding it: a session answers Parse-only units without the engine
/// (<see cref="FindValidated"/>), and a pipelined unit's outcomes are applied after the engine has gone
/// to the next client. So its one lock (<see cref="Gate"/>) is its owner: every read and write of it, of
/// <see cref="EngineStatement.PreparedEpoch"/> and of <see cref="AutoStatements"/> takes it.
/// </summary>
internal sealed class StatementCatalog
{
    private readonly Dictionary<(string Sql, string Types), EngineStatement> _statements = new();
    private int _nextId;
    private int _epoch;
    private (object? Owner, long Version) _unnamed;

    /// <summary>Statements no client names any more, which the engine may still hold: closed by the next departing client's cleanup.</summary>
    private readonly List<EngineStatement> _unheld = [];

    public StatementCatalog(int autoPrepareCapacity = 256) => Auto = new AutoStatements(Gate) { Capacity = autoPrepareCapacity };

    /// <summary>The lock that owns the catalog's state.</summary>
    internal object Gate { get; } = new();

    /// <summary>Statements ZeroPg prepared on its own for repeated simple Queries.</summary>
    public AutoStatements Auto { get; }

    /// <summary>The engine process generation these statements belong to.</summary>
    public int EngineGeneration
    {
        get { lock (Gate) return _generation; }
    }

    private int _generation;

    /// <summary>The engine statement for a text and parameter types; <paramref name="analysis"/> is the text's, when the caller has it (saves decoding it again).</summary>
    public EngineStatement GetOrAdd(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes, Sql.SqlAnalysis? analysis = null)
    {
        var key = (analysis?.Sql ?? System.Text.Encoding.UTF8.GetString(sql), Convert.ToHexString(parameterTypes));
        lock (Gate)
        {
            if (!_statements.TryGetValue(key, out var statement))
            {
                statement = new EngineStatement($"zp_{++_nextId}", sql.ToArray(), parameterTypes.ToArray(), analysis);
                _statements[key] = statement;
            }
            return statement;
        }
    }

    /// <summary>A client's name now points at <paramref name="statement"/> (<see cref="ClientStatements"/>).</summary>
    public void Hold(EngineStatement statement)
    {
        if (statement.FromSql)
            return;
        lock (Gate)
        {
            if (statement.Holders++ > 0)
                return;
            // Named again after no client named it (a Parse answered without the engine raced a departing client): shared again.
            _unheld.Remove(statement);
            _statements.TryAdd((statement.Text, Convert.ToHexString(statement.ParameterTypes)), statement);
        }
    }

    /// <summary>
    /// A client's name no longer points at <paramref name="statement"/>; at no name left it leaves the catalog (a later Parse of the
    /// same text makes a new one) and waits to be closed in the engine (<see cref="TakeUnheld"/>).
    /// </summary>
    public void Release(EngineStatement statement)
    {
        if (statement.FromSql)
            return;
        lock (Gate)
        {
            if (--statement.Holders > 0)
                return;
            var key = (statement.Text, Convert.ToHexString(statement.ParameterTypes));
            if (_statements.TryGetValue(key, out var current) && ReferenceEquals(current, statement))
                _statements.Remove(key);
            _unheld.Add(statement);
        }
    }

    public bool HasUnheld
    {
        get { lock (Gate) return _unheld.Count > 0; }
    }

    /// <summary>
    /// The statements no client names that the current engine may hold, to be closed now by the caller, which holds the engine.
    /// Should a client name one again before the Close runs, it is closed and prepared again before its use.
    /// </summary>
    public List<EngineStatement> TakeUnheld()
    {
        lock (Gate)
        {
            var held = _unheld.Where(s => s.PreparedEpoch == _epoch || s.PreparedEpoch == int.MaxValue).ToList();
            foreach (var statement in held)
                statement.PreparedEpoch = int.MaxValue;
            _unheld.Clear();
            return held;
        }
    }

    /// <summary>A statement the engine has parsed without error before (it may need preparing again); callable without owning the engine.</summary>
    public EngineStatement? FindValidated(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
    {
        var key = Key(sql, parameterTypes);
        lock (Gate)
            return _statements.TryGetValue(key, out var statement) && statement.PreparedEpoch >= 0 ? statement : null;
    }

    private static (string, string) Key(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
        => (System.Text.Encoding.UTF8.GetString(sql), Convert.ToHexString(parameterTypes));

    public bool IsPrepared(EngineStatement statement)
    {
        lock (Gate)
            return statement.PreparedEpoch == _epoch;
    }

    /// <summary>
    /// The engine may no longer hold <paramref name="statement"/> (a client deallocates it with SQL): it is prepared again when
    /// next used, closed first in case it is still there.
    /// </summary>
    public void MarkMaybeHeld(EngineStatement statement)
    {
        lock (Gate)
            statement.PreparedEpoch = int.MaxValue;
    }

    /// <summary>True when <paramref name="owner"/>'s unnamed statement, Parse number <paramref name="version"/>, is the engine's.</summary>
    public bool HoldsUnnamed(object owner, long version)
    {
        lock (Gate)
            return ReferenceEquals(_unnamed.Owner, owner) && _unnamed.Version == version;
    }

    public bool UnnamedIsOf(object owner)
    {
        lock (Gate)
            return ReferenceEquals(_unnamed.Owner, owner);
    }

    /// <summary>The engine's unnamed statement is now <paramref name="owner"/>'s Parse <paramref name="version"/> (null owner: nobody's).</summary>
    public void SetUnnamed(object? owner, long version = 0)
    {
        lock (Gate)
            _unnamed = (owner, version);
    }

    /// <summary>The engine no longer holds any named statement (nor the unnamed one): engine restart, DISCARD ALL, DEALLOCATE ALL.</summary>
    public void Forget()
    {
        lock (Gate)
        {
            _epoch++;
            _unnamed = default;
        }
    }

    /// <summary>A new engine process took over: forget everything of the old one, once. True for the caller that did it.</summary>
    public bool ForgetForGeneration(int generation)
    {
        lock (Gate)
        {
            if (_generation == generation)
                return false;
            _generation = generation;
            _epoch++;
            _unnamed = default;
            return true;
        }
    }

    /// <summary>
    /// Writes the Parse of <paramref name="statement"/> into <paramref name="batch"/> unless the engine holds it,
    /// marked prepared at once (so a later Parse in the same batch is not sent twice), undone if the engine refuses it.
    /// A statement prepared in an earlier epoch may still be in the engine (the reset that bumped the epoch failed,
    /// e.g. DISCARD ALL inside a transaction block): closing it first (no error when absent) keeps the Parse from failing with 42P05.
    /// </summary>
    public void WritePrepare(EngineBatch batch, EngineStatement statement, ExpectKind kind, Action<bool>? onCompleted = null)
    {
        int epoch;
        bool maybeHeld;
        lock (Gate)
        {
            epoch = _epoch;
            maybeHeld = statement.PreparedEpoch >= 0;
            statement.PreparedEpoch = epoch;
        }
        if (maybeHeld)
        {
            TargetedMessage.Write(batch.Buffer, FrontendCode.Close, TargetedMessage.Statement, statement.EngineNameBytes);
            batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Close);
        }
        ParseMessage.Write(batch.Buffer, statement.EngineNameBytes, statement.Sql, statement.ParameterTypes);
        batch.Plan.Expect(kind, FrontendCode.Parse, onCompleted: ok =>
        {
            if (!ok)
            {
                lock (Gate)
                {
                    if (statement.PreparedEpoch == epoch)
                        statement.PreparedEpoch = -1;
                }
            }
            onCompleted?.Invoke(ok);
        });
    }
}
