using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions.Portals;

/// <summary>
/// A client's portal names in the shared engine. Postgres has one namespace for the portals a Bind makes and the cursors a
/// DECLARE makes (psycopg 3 DECLAREs a named cursor, then Describes it as a portal; pgjdbc and pg-cursor Bind named portals and
/// FETCH nothing). ZeroPg renames a DECLAREd cursor to "zp&lt;pid&gt;_name" (<see cref="SqlEditKind.CursorName"/>), so every
/// protocol message that names a portal — Bind's target, Describe, Execute, Close — names "zp&lt;pid&gt;_name" too: the client
/// reaches its own portal whichever way it was made, and never another client's (a WITH HOLD cursor outlives the transaction
/// that pinned the engine). The unnamed portal stays unnamed: it lives only until the client's Sync, while the client holds the
/// engine. The engine's errors name "zp&lt;pid&gt;_name"; <see cref="ReplyForwarder"/> gives them back the client's name.
/// </summary>
internal static class PortalNames
{
    /// <summary>The engine's name of the client's portal <paramref name="portal"/> ("" stays "").</summary>
    public static byte[] Engine(int processId, string portal)
        => portal.Length == 0 ? [] : Encoding.UTF8.GetBytes(SqlEdit.PrefixedName(processId, portal));

    /// <summary>An Execute of the client's portal, as the engine must get it.</summary>
    public static void WriteExecute(EngineBatch batch, ReadOnlySpan<byte> message, int processId, string portal)
    {
        if (portal.Length == 0)
        {
            batch.Buffer.Append(message);
            return;
        }
        var execute = ExecuteMessage.Read(message[MessageFramer.HeaderLength..]);
        ExecuteMessage.Write(batch.Buffer, Engine(processId, portal), execute.MaxRows);
    }

    /// <summary>A Describe or Close of the client's portal, as the engine must get it.</summary>
    public static void ForwardTargeted(EngineBatch batch, FrontendCode code, ReadOnlySpan<byte> message, int processId, string portal)
    {
        if (portal.Length == 0)
        {
            batch.Forward(code, message);
            return;
        }
        TargetedMessage.Write(batch.Buffer, code, TargetedMessage.Portal, Engine(processId, portal));
        batch.Plan.Expect(ExpectKind.Forward, code);
    }
}
