using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroPg.Engine;
using ZeroPg.Hosting;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions;
using ZeroPg.Sessions.Statements;

namespace ZeroPg.Tests.Sessions;

/// <summary>A session's collaborators wired by the server's own <see cref="SessionComposition"/>, without a connection or an engine: for unit tests of the pure parts.</summary>
internal sealed class SessionParts
{
    public SessionParts(SessionServices? shared = null, int processId = 4242, params (string, string)[] startup)
    {
        Services = shared ?? new SessionServices(new ZeroPgOptions(), new EngineSupervisor(new ZeroPgOptions(), new ZeroPgMetrics(), NullLogger<EngineSupervisor>.Instance),
            new EngineScheduler(), new SessionRegistry(), new StatementCatalog(), new ZeroPgMetrics(), ZeroPg.Security.ServerTls.From(new ZeroPgOptions()), NullLoggerFactory.Instance);
        var client = new Pipe();
        Composition = new SessionComposition(new object(), Services, startup.ToDictionary(p => p.Item1, p => p.Item2), client.Reader, new Pipe().Writer, CancellationToken.None);
        Identity.Assign(processId, 1);
    }

    public SessionComposition Composition { get; }
    public SessionServices Services { get; }
    public SessionIdentity Identity => Composition.Identity;
    public ProtocolState State => Composition.State;
    public SessionSettings Settings => Composition.Settings;
    public TempRelations Temp => Composition.Temp;
    public StatementMapping Statements => Composition.Statements;
    public ClientNotifications Notifications => Composition.Notifications;
    public EngineStateRestore Restore => Composition.Restore;
    public AutoPrepare Auto => Composition.Auto;
    public UnitRewriter Rewriter => Composition.Rewriter;
    public ClientBatch Client => Composition.Batch;
    public EngineBatch Batch => Composition.EngineBatch;

    public SessionParts Add(FrontendCode code, Action<IBufferWriter<byte>> write, bool endsUnit = false)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        Client.Add(code, new ReadOnlySequence<byte>(writer.WrittenMemory));
        if (endsUnit)
            Client.EndUnit();
        return this;
    }

    public SessionParts Query(string sql) => Add(FrontendCode.Query, w => QueryMessage.Write(w, sql), endsUnit: true);
    public SessionParts Parse(string name, string sql) => Add(FrontendCode.Parse, w => ParseMessage.Write(w, Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(sql), [0, 0]));
    public SessionParts Bind(string name) => Add(FrontendCode.Bind, w => BindMessage.Write(w, [], Encoding.UTF8.GetBytes(name), [0, 0, 0, 0, 0, 0]));
    public SessionParts Execute() => Add(FrontendCode.Execute, w => ExecuteMessage.Write(w, [], 0));
    public SessionParts Sync() => Add(FrontendCode.Sync, w => EmptyFrontendMessage.Write(w, FrontendCode.Sync), endsUnit: true);

    /// <summary>Builds the engine batch of every accepted message.</summary>
    public EngineBatch Build()
    {
        Rewriter.Build(Batch, Client, Client.Count);
        return Batch;
    }

    /// <summary>The engine batch as "code:detail" per message (the SQL of a Query, the statement name of a Parse or Bind).</summary>
    public List<string> Sent()
    {
        var sent = new List<string>();
        foreach (var message in new MessageReader(Batch.Buffer.Messages))
        {
            var detail = message.Frontend switch
            {
                FrontendCode.Query => QueryMessage.ReadSql(message.Body),
                FrontendCode.Parse => Encoding.UTF8.GetString(ParseMessage.Read(message.Body).StatementName),
                FrontendCode.Bind => Encoding.UTF8.GetString(BindMessage.Read(message.Body).StatementName),
                _ => "",
            };
            sent.Add($"{(char)message.Code}:{detail}");
        }
        return sent;
    }

    public string Plan() => string.Join(",", Batch.Plan.Expectations.Select(e => $"{e.Kind}:{(char)e.Code}"));
}
