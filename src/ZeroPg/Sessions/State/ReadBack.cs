using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// The one engine call after a unit in which every session object reads back (or puts right) its state
/// (<see cref="ISessionState.AfterUnitAsync"/>): one Query per statement, in the order the objects added them; each reader
/// gets the reply messages of its own statement. None when no object added anything.
/// </summary>
internal sealed class ReadBack
{
    // Made when a first statement is added: most units add none, and this runs after every unit.
    private List<string>? _statements;
    private List<(int Statement, Action<IReadOnlyList<byte[]>> Read)>? _readers;

    public bool IsEmpty => _statements is null;

    /// <summary>Statements whose replies nobody reads (housekeeping: an UNLISTEN, an unlock).</summary>
    public void Run(params IEnumerable<string> statements)
    {
        foreach (var statement in statements)
            (_statements ??= []).Add(statement);
    }

    /// <summary>A statement whose reply messages (rows, or an error) go to <paramref name="read"/>.</summary>
    public void Read(string statement, Action<IReadOnlyList<byte[]>> read)
    {
        var list = _statements ??= [];
        (_readers ??= []).Add((list.Count, read));
        list.Add(statement);
    }

    /// <summary>Runs the statements in one engine call (the caller holds the engine) and hands each reader its reply.</summary>
    public async Task RunAsync(EngineLink link)
    {
        if (_statements is not { } statements)
            return;
        var reply = await link.RunOwnSqlAsync(_readers is not null ? ReplyMode.Capture : ReplyMode.Discard, statements);
        if (_readers is not { } readers)
            return;
        var byStatement = SplitAtReady(reply);
        foreach (var (statement, read) in readers)
            read(statement < byStatement.Count ? byStatement[statement] : []);
    }

    /// <summary>One list of reply messages per Query: each ends with its ReadyForQuery.</summary>
    private static List<List<byte[]>> SplitAtReady(IReadOnlyList<byte[]> reply)
    {
        var groups = new List<List<byte[]>>();
        var current = new List<byte[]>();
        foreach (var message in reply)
        {
            current.Add(message);
            if (message.Is(BackendCode.ReadyForQuery))
            {
                groups.Add(current);
                current = [];
            }
        }
        return groups;
    }
}
