using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

public sealed class SqlTextTests
{
    [Theory]
    [InlineData("COPY t FROM STDIN")]
    [InlineData("copy t from stdin")]
    [InlineData("  CoPy public.t (a, b) FrOm StDiN WITH (FORMAT csv)")]
    [InlineData("copy \"Weird Table\" from stdin;")]
    [InlineData("-- leading comment\ncopy t from stdin")]
    [InlineData("/* block */ copy /* inner */ t from /* x */ stdin")]
    [InlineData("copy t (a) from stdin with (delimiter ',', null '')")]
    [InlineData("COPY t FROM STDIN (FORMAT binary)")]
    [InlineData("copy\nt\nfrom\nstdin")]
    public void Copy_from_stdin_is_recognised(string sql) => Assert.True(SqlText.IsCopyFromStdin(sql), sql);

    [Theory]
    [InlineData("")]
    [InlineData("COPY t TO STDOUT")]
    [InlineData("copy (select 'from stdin') to stdout")]
    [InlineData("COPY t FROM '/tmp/file'")]
    [InlineData("select 'copy t from stdin'")]
    [InlineData("-- copy t from stdin\nselect 1")]
    [InlineData("/* copy t from stdin */ select 1")]
    [InlineData("select $$copy t from stdin$$")]
    [InlineData("select 1; copy t from stdin")]
    [InlineData("copy t to stdout; select 'from stdin'")]
    [InlineData("copy \"from\" to stdout -- from stdin")]
    [InlineData("copy t from stdin_table")]
    [InlineData("copy t from \"stdin\"")]
    [InlineData("insert into copy values (1)")]
    public void Other_statements_are_not_copy_from_stdin(string sql) => Assert.False(SqlText.IsCopyFromStdin(sql), sql);

    [Theory]
    [InlineData("select 1; copy t from stdin", true)]
    [InlineData("begin; COPY t FROM STDIN;", true)]
    [InlineData("copy a from stdin; copy b from stdin", true)]
    [InlineData("copy t from stdin; select 1", false)]
    [InlineData("copy t from stdin", false)]
    [InlineData("select 1; copy t to stdout", false)]
    [InlineData("select 'x; copy t from stdin'", false)]
    [InlineData("select 1; -- copy t from stdin", false)]
    [InlineData("select 1; select 'copy t from stdin'", false)]
    public void Copy_from_stdin_after_the_first_statement_is_found(string sql, bool expected)
        => Assert.Equal(expected, SqlText.HasCopyFromStdinAfterFirstStatement(sql));
}
