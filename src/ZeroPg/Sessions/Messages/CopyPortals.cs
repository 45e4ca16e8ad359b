using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Portals bound to COPY ... FROM STDIN. An Execute of one starts the COPY only right after its Bind; anywhere else
/// (a Describe between, a portal of an earlier unit) it is refused, as PGlite exits on a COPY whose data is not in its call.
/// Kept until the portal is bound again or closed: a stale name costs a refusal in place of "portal does not exist".
/// Thread: the session.
/// </summary>
internal sealed class CopyPortals(ClientBatch batch, StatementMapping statements)
{
    private readonly HashSet<string> _portals = new(StringComparer.Ordinal);

    /// <summary>The Bind just held: remembers whether its portal runs COPY ... FROM STDIN, for the Execute of it, wherever that comes.</summary>
    public void Bound(ClientMessage bind)
    {
        if (BindsCopyFromStdin(batch.Messages.Count - 1))
            _portals.Add(bind.PortalName!);
        else
            _portals.Remove(bind.PortalName!);
    }

    public void Closed(string portal) => _portals.Remove(portal);

    public bool Contains(string portal) => _portals.Contains(portal);

    /// <summary>The Execute just held runs the portal of the Bind right before it, and that statement is COPY ... FROM STDIN.</summary>
    public bool ExecutesCopyFromStdin()
    {
        var messages = batch.Messages;
        return messages.Count >= 2 && messages[^2] is { Code: FrontendCode.Bind } bind && bind.PortalName == messages[^1].PortalName
            && BindsCopyFromStdin(messages.Count - 2);
    }

    private bool BindsCopyFromStdin(int bindAt) => StatementAt(batch, statements, bindAt) is { CopiesFromStdin: true };

    /// <summary>
    /// A Query held before the Bind that may drop statement names (DEALLOCATE, DISCARD ALL): which statement the name then means
    /// is known only once it ran, so a Parse of the name after it may make the statement or fail (42P05).
    /// </summary>
    private static bool MayDropNames(ClientMessage message)
        => message is { Code: FrontendCode.Query, Sql: { } sql }
            && (sql.DeallocatesAll || sql.Sql.Contains("DEALLOCATE", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The SQL of the statement the Bind at <paramref name="bindAt"/> binds, as the build of its unit resolves the name
    /// (<see cref="StatementMapping"/>): the client's statement of that name before the batch, then each Parse and Close of the
    /// name held before the Bind, in order. A Parse of a named statement the client already has fails (42P05) and leaves it
    /// as it was: taking that Parse for the statement once let an Execute of a COPY FROM STDIN reach the engine without its
    /// data, and the next Query of the batch killed the engine for everyone (fuzz seed 494657). A Parse refused in place
    /// leaves a named statement as it was and the unnamed one none, as a Parse that fails in Postgres does.
    /// When a Query before the Bind may have dropped the name (DEALLOCATE ALL, then a Parse of the name: the fuzzer killed the
    /// engine so), either statement may be the one bound: the COPY FROM STDIN among them is returned, since taking a COPY for
    /// anything else kills the engine and taking anything else for a COPY only costs a probe.
    /// </summary>
    public static SqlAnalysis? StatementAt(ClientBatch batch, StatementMapping statements, int bindAt)
    {
        var messages = batch.Messages;
        var name = messages[bindAt].StatementName!;
        var held = statements.StatementSql(name);
        SqlAnalysis? madeIfDropped = null; // a Parse of the name that took effect if a DEALLOCATE before it dropped the name
        var mayBeDropped = false;
        for (var i = 0; i < bindAt; i++)
        {
            var message = messages[i];
            if (MayDropNames(message))
                mayBeDropped = true;
            if (message.StatementName != name)
                continue;
            if (message.Code == FrontendCode.Parse)
            {
                if (message.Refusal is not null)
                    held = name.Length == 0 ? null : held;
                else if (name.Length == 0 || held is null)
                    held = message.Sql;
                else if (mayBeDropped)
                    madeIfDropped = message.Sql;
            }
            else if (message is { Code: FrontendCode.Close, TargetsStatement: true })
            {
                held = null;
                madeIfDropped = null;
            }
        }
        return held is { CopiesFromStdin: true } ? held : madeIfDropped is { CopiesFromStdin: true } ? madeIfDropped : held;
    }
}
