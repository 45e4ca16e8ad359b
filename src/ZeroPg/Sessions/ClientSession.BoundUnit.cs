using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// Recognises an extended-protocol unit that runs one already prepared statement without parameters:
/// Bind, optionally Describe of its portal, Execute, Sync. This is how clients that prepare everything
/// (pgbench -M prepared, JDBC after its threshold) send BEGIN and COMMIT.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>The SQL of the statement such a unit runs, or null when <paramref name="messages"/> is anything else.</summary>
    private string? BoundStatementSql(ReadOnlySpan<byte> messages, out bool describes)
    {
        describes = false;
        string? sql = null;
        var offset = 0;
        var step = 0; // 0: Bind, 1: Describe or Execute, 2: Sync, 3: done
        while (offset < messages.Length)
        {
            if (offset + 5 > messages.Length)
                return null;
            var code = (FrontendCode)messages[offset];
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
            var body = messages.Slice(offset + 5, length - 5);
            switch (step, code)
            {
                case (0, FrontendCode.Bind):
                    var bind = BindMessage.Read(body);
                    if (!HasNoParameters(bind.Rest))
                        return null;
                    sql = StatementSql(bind.StatementName);
                    step = 1;
                    break;
                case (1, FrontendCode.Describe) when !describes && body.Length > 0 && body[0] == TargetedMessage.Portal:
                    describes = true;
                    break;
                case (1, FrontendCode.Execute):
                    step = 2;
                    break;
                case (2, FrontendCode.Sync):
                    step = 3;
                    break;
                default:
                    return null;
            }
            offset += length;
        }
        return step == 3 ? sql : null;
    }

    private string? StatementSql(ReadOnlySpan<byte> clientName)
    {
        if (!clientName.IsEmpty)
            return _statements.TryGet(Encoding.UTF8.GetString(clientName), out var statement) ? statement.Text : null;
        return _statements.LastUnnamedParse is { } unnamed ? Encoding.UTF8.GetString(ParseMessage.Read(unnamed.AsSpan(5)).Sql) : null;
    }

    /// <summary>Bind's tail: parameter formats, then the parameter count, which must be zero.</summary>
    private static bool HasNoParameters(ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 2)
            return false;
        var formats = BinaryPrimitives.ReadInt16BigEndian(rest);
        var countAt = 2 + formats * 2;
        return formats >= 0 && rest.Length >= countAt + 2 && BinaryPrimitives.ReadInt16BigEndian(rest[countAt..]) == 0;
    }
}
