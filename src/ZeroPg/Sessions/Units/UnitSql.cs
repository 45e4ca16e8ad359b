using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>The SQL of a unit's messages as analysed when they were accepted: a Query's or Parse's own, a Bind's by its statement's.</summary>
internal static class UnitSql
{
    public static IEnumerable<SqlAnalysis> Of(ClientBatch batch, int count, StatementMapping statements)
    {
        for (var i = 0; i < count && i < batch.Messages.Count; i++)
        {
            var message = batch.Messages[i];
            var sql = message.Code switch
            {
                FrontendCode.Query or FrontendCode.Parse => message.Sql,
                FrontendCode.Bind => statements.StatementSql(message.StatementName!),
                _ => null,
            };
            if (sql is not null)
                yield return sql;
        }
    }
}
