using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Capture;

namespace ZeroPg.Sessions;

/// <summary>
/// The non-transactional logical messages this client emitted whose transaction has not ended: the engine announces each in a
/// NOTICE (Replication/Capture/NonTransactionalMessages), which is taken out of the reply here and never reaches the client; once
/// the transaction has ended the session hands them to the engine, which writes again those a rollback undid.
/// Thread: added to on the engine reader thread during a call (<see cref="ReplyForwarder"/>), read and cleared by the session
/// after the call completed.
/// </summary>
internal sealed class HeldMessages
{
    private readonly List<string> _announcements = [];

    public bool Pending => _announcements.Count > 0;

    /// <summary>Reader thread: true when <paramref name="notice"/> (whole) is an announcement (now held), false for any other notice.</summary>
    public bool TryHold(ReadOnlySpan<byte> notice)
    {
        if (ErrorReply.SqlStateOf(notice) != NonTransactionalMessages.SqlState)
            return false;
        if (ErrorReply.Parse(notice).Message is { } json)
            _announcements.Add(json);
        return true;
    }

    /// <summary>The SQL that writes again what a rollback undid (<paramref name="inPlace"/>: the engine stayed with this client since
    /// they were emitted); the messages are no longer held.</summary>
    public string TakeRescueSql(bool inPlace)
    {
        var sql = NonTransactionalMessages.RescueSql(_announcements, inPlace);
        _announcements.Clear();
        return sql;
    }

    /// <summary>The engine they were emitted in is gone (restarted): nothing of them is left to compare with.</summary>
    public void Clear() => _announcements.Clear();
}
