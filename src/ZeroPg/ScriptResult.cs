namespace ZeroPg;

/// <summary>
/// What <see cref="ZeroPgServer.ExecScriptAsync"/> got, shaped as Testcontainers' ExecResult is for `psql -f`:
/// <see cref="ExitCode"/> 0 or 1, the last result set's rows in <see cref="Stdout"/> as `psql -At` prints them,
/// the error in <see cref="Stderr"/>; plus the rows and the SQLSTATE themselves.
/// </summary>
public sealed record ScriptResult(IReadOnlyList<string?[]> Rows, string? SqlState, string? Error)
{
    public long ExitCode => Error is null ? 0 : 1;

    public string Stdout => string.Concat(Rows.Select(row => string.Join('|', row.Select(v => v ?? "")) + "\n"));

    public string Stderr => Error is null ? "" : $"ERROR:  {Error}\n";
}
