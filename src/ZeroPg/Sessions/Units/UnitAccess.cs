using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>What a unit of client messages needs the engine for (<see cref="EngineAccess"/>), from the SQL analysed when they were accepted.</summary>
internal static class UnitAccess
{
    public static EngineAccess Of(ClientBatch batch, int count, StatementMapping statements)
    {
        var access = EngineAccess.ReadOnly;
        HashSet<string>? parsed = null;
        for (var i = 0; i < count && i < batch.Messages.Count; i++)
        {
            var message = batch.Messages[i];
            if (message.Code == FrontendCode.Parse)
                (parsed ??= new(StringComparer.Ordinal)).Add(message.StatementName!);
            else if (message.Code == FrontendCode.Bind && parsed?.Contains(message.StatementName!) == true)
                continue; // its Parse, earlier in the unit, was looked at
            var sql = message.Code switch
            {
                FrontendCode.Query or FrontendCode.Parse => message.Sql,
                FrontendCode.Bind => statements.StatementSql(message.StatementName!),
                _ => null,
            };
            if (sql is null)
            {
                if (message.Code is FrontendCode.Bind or FrontendCode.FunctionCall)
                    access = EngineAccess.Ordinary; // a statement or function ZeroPg cannot see
                continue;
            }
            if (sql.Effects.ImportsSnapshot)
                return EngineAccess.Import;
            if (!sql.CannotWrite)
                access = EngineAccess.Ordinary;
        }
        return access;
    }
}
