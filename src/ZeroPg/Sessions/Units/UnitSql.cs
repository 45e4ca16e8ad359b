using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>The SQL of a unit's messages as analysed when they were accepted: a Query's or Parse's own, a Bind's by its statement's.</summary>
internal static class UnitSql
{
    /// <summary>The SQL of the first <paramref name="count"/> messages, for a foreach (a struct: this runs for every unit, and an
    /// iterator method would allocate).</summary>
    public static Messages Of(ClientBatch batch, int count, StatementMapping statements) => new(batch, count, statements);

    public readonly struct Messages(ClientBatch batch, int count, StatementMapping statements)
    {
        public Enumerator GetEnumerator() => new(batch, Math.Min(count, batch.Messages.Count), statements);
    }

    public struct Enumerator(ClientBatch batch, int count, StatementMapping statements)
    {
        private int _next;

        public SqlAnalysis Current { get; private set; } = null!; // read only after MoveNext returned true

        public bool MoveNext()
        {
            while (_next < count)
            {
                var message = batch.Messages[_next++];
                var sql = message.Code switch
                {
                    FrontendCode.Query or FrontendCode.Parse => message.Sql,
                    FrontendCode.Bind => statements.StatementSql(message.StatementName!),
                    _ => null,
                };
                if (sql is not null)
                {
                    Current = sql;
                    return true;
                }
            }
            return false;
        }
    }
}
