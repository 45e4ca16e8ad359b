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
        if (BindsCopyFromStdin(bind, batch.Messages.Count - 1))
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
        return messages.Count >= 2 && messages[^2] is { Code: Protocol.FrontendCode.Bind } bind && bind.PortalName == messages[^1].PortalName
            && BindsCopyFromStdin(bind, messages.Count - 2);
    }

    private bool BindsCopyFromStdin(ClientMessage bind, int bindAt)
    {
        var messages = batch.Messages;
        for (var i = bindAt - 1; i >= 0; i--)
        {
            if (messages[i] is { Code: Protocol.FrontendCode.Parse } parse && parse.StatementName == bind.StatementName)
                return parse.Sql!.CopiesFromStdin;
        }
        return statements.StatementSql(bind.StatementName!) is { CopiesFromStdin: true };
    }
}
