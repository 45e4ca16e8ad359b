using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// One client message as accepted: where its bytes are in the <see cref="ClientBatch"/>, and what was
/// parsed from it once, when it arrived: statement and portal names, Describe/Close targets, and the
/// analysis of a Query's or a Parse's SQL. Everything later works from this, never from the bytes again.
/// </summary>
internal readonly record struct ClientMessage(FrontendCode Code, int Offset, int Length)
{
    /// <summary>Parse, Bind, Describe/Close of a statement: the client's statement name ("" for the unnamed one).</summary>
    public string? StatementName { get; init; }

    /// <summary>Bind, Execute, Describe/Close of a portal: the portal name.</summary>
    public string? PortalName { get; init; }

    /// <summary>Describe and Close: <see cref="TargetedMessage.Statement"/> or <see cref="TargetedMessage.Portal"/>.</summary>
    public byte Target { get; init; }

    /// <summary>A Query's or a Parse's SQL, analysed.</summary>
    public SqlAnalysis? Sql { get; init; }

    /// <summary>An error the engine raises in this message's place (see <see cref="StatementMapping.RaiseInEngine"/>): what it asks cannot be done.</summary>
    public PgError? Refusal { get; init; }

    /// <summary>A Bind without parameter values.</summary>
    public bool BindsNoParameters { get; init; }

    /// <summary>Parses what the session needs from <paramref name="message"/> (whole: type, length, body).</summary>
    public static ClientMessage Accept(FrontendCode code, int offset, ReadOnlySpan<byte> message, SqlAnalysis? querySql = null)
    {
        var body = new Message(message, offset).Body; // framed already: each kind's reader parses the body
        var accepted = new ClientMessage(code, offset, message.Length);
        switch (code)
        {
            case FrontendCode.Query:
                return accepted with { Sql = querySql ?? SqlAnalysis.Of(QueryMessage.ReadSql(body)) };
            case FrontendCode.Parse:
                var parse = ParseMessage.Read(body);
                return accepted with { StatementName = Name(parse.StatementName), Sql = SqlAnalysis.Of(Encoding.UTF8.GetString(parse.Sql)) };
            case FrontendCode.Bind:
                var bind = BindMessage.Read(body);
                return accepted with { PortalName = Name(bind.PortalName), StatementName = Name(bind.StatementName), BindsNoParameters = HasNoParameters(bind.Rest) };
            case FrontendCode.Execute:
                return accepted with { PortalName = Name(ExecuteMessage.Read(body).PortalName) };
            case FrontendCode.Describe:
            case FrontendCode.Close:
                var targeted = TargetedMessage.Read(body, code == FrontendCode.Describe ? "Describe" : "Close");
                var name = Name(targeted.Name);
                return targeted.Target == TargetedMessage.Statement
                    ? accepted with { Target = targeted.Target, StatementName = name }
                    : accepted with { Target = targeted.Target, PortalName = name };
            default:
                return accepted;
        }
    }

    public bool TargetsStatement => Target == TargetedMessage.Statement;

    private static string Name(ReadOnlySpan<byte> name) => name.IsEmpty ? "" : Encoding.UTF8.GetString(name);

    /// <summary>Bind's tail: parameter formats, then the parameter count, which must be zero.</summary>
    private static bool HasNoParameters(ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 2)
            return false;
        var formats = BinaryPrimitives.ReadUInt16BigEndian(rest); // counts are unsigned, as Postgres reads them
        var countAt = 2 + formats * 2;
        return rest.Length >= countAt + 2 && BinaryPrimitives.ReadUInt16BigEndian(rest[countAt..]) == 0;
    }
}
