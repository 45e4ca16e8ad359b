namespace ZeroPg.Sessions.Statements;

/// <summary>
/// A named prepared statement in the engine session: one a Parse made, shared by every client that parsed the same text and
/// types; or one a client's SQL PREPARE made (<see cref="FromSql"/>), its own, which ZeroPg cannot prepare again.
/// </summary>
internal sealed class EngineStatement(string engineName, byte[] sql, byte[] parameterTypes, Sql.SqlAnalysis? analysis = null, bool fromSql = false)
{
    public bool FromSql { get; } = fromSql;

    private ZeroPg.Sql.SqlAnalysis? _analysis = analysis;
    private string? _text = analysis?.Sql;

    public string EngineName { get; } = engineName;
    public byte[] EngineNameBytes { get; } = System.Text.Encoding.UTF8.GetBytes(engineName);
    public byte[] Sql { get; } = sql;
    public byte[] ParameterTypes { get; } = parameterTypes;

    /// <summary>The SQL as text, decoded once.</summary>
    public string Text => _text ??= System.Text.Encoding.UTF8.GetString(Sql);

    /// <summary>The statement's SQL analysed, once (the client's Parse usually brought it).</summary>
    public ZeroPg.Sql.SqlAnalysis Analysis => _analysis ??= ZeroPg.Sql.SqlAnalysis.Of(Text);

    /// <summary>The statement is DISCARD ALL / DEALLOCATE ALL, which drops every engine statement when executed.</summary>
    public bool DeallocatesAll => Analysis.DeallocatesAll;

    /// <summary>Running it leaves the engine session as it found it (see <see cref="ZeroPg.Sql.SqlAnalysis.IsPipelineSafe"/>).</summary>
    public bool IsPipelineSafe => Analysis.IsPipelineSafe;

    /// <summary>The catalog epoch in which the engine last prepared it; another epoch means it must be prepared again. Guarded by <see cref="StatementCatalog.Gate"/>.</summary>
    public int PreparedEpoch { get; set; } = -1;

    /// <summary>How many client names point at it (<see cref="ClientStatements"/>); at none it is closed in the engine. Guarded by <see cref="StatementCatalog.Gate"/>.</summary>
    public int Holders { get; set; }
}
