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
    /// The SQL of the statement the Bind at <paramref name="bindAt"/> binds, as the build of its unit resolves the name
    /// (<see cref="StatementMapping"/>): the client's statement of that name before the batch, then each Parse and Close of the
    /// name held before the Bind, in order. A Parse of a named statement the client already has fails (42P05) and leaves it
    /// as it was: taking that Parse for the statement once let an Execute of a COPY FROM STDIN reach the engine without its
    /// data, and the next Query of the batch killed the engine for everyone (fuzz seed 494657). A Parse refused in place
    /// leaves a named statement as it was and the unnamed one none, as a Parse that fails in Postgres does.
    /// </summary>
    public static SqlAnalysis? StatementAt(ClientBatch batch, StatementMapping statements, int bindAt)
    {
        var messages = batch.Messages;
        var name = messages[bindAt].StatementName!;
        var held = statements.StatementSql(name);
        for (var i = 0; i < bindAt; i++)
        {
            var message = messages[i];
            if (message.StatementName != name)
                continue;
            if (message.Code == FrontendCode.Parse)
            {
                if (message.Refusal is not null)
                    held = name.Length == 0 ? null : held;
                else if (name.Length == 0 || held is null)
                    held = message.Sql;
            }
            else if (message is { Code: FrontendCode.Close, TargetsStatement: true })
            {
                held = null;
            }
        }
        return held;
    }
}
