using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>The SQL of a unit's messages as analysed when they were accepted: a Query's or Parse's own, a Bind's by its statement's.</summary>
internal static class UnitSql
{
    /// <summary>How many of the first <paramref name="count"/> messages there are to look at with <see cref="At"/>.</summary>
    public static int Count(ClientBatch batch, int count) => Math.Min(count, batch.Messages.Count);

    /// <summary>The SQL message <paramref name="i"/> runs, or null (a loop over indexes: this runs for every unit, and an
    /// iterator would allocate).</summary>
    public static SqlAnalysis? At(ClientBatch batch, int i, StatementMapping statements)
    {
        var message = batch.Messages[i];
        return message.Code switch
        {
            FrontendCode.Query or FrontendCode.Parse => message.Sql,
            FrontendCode.Bind => statements.StatementSql(message.StatementName!),
            _ => null,
        };
    }
}
