using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

public sealed class SqlLexerTests
{
    private static (string Kinds, SqlDoubts Doubts) Lex(string sql)
    {
        var tokens = new List<SqlToken>();
        var doubts = SqlLexer.Lex(sql, tokens);
        return (string.Join(" ", tokens.Select(t => $"{t.Kind}:{t.Text(sql)}")), doubts);
    }

    [Theory]
    [InlineData("select a1, 42 from t", "Word:select Word:a1 Punct:, Number:42 Word:from Word:t")]
    [InlineData("x>=-5", "Word:x Operator:>= Operator:- Number:5")]
    [InlineData("a @- 1", "Word:a Operator:@- Number:1")]
    [InlineData("1.5 + 1e-3 + 0x1F + 1_000", "Number:1.5 Operator:+ Word:1e-3 Operator:+ Word:0x1F Operator:+ Word:1_000")]
    [InlineData("'it''s' \"Col \"\"X\"\"\" $q$ a'b $q$", "String:'it''s' QuotedIdentifier:\"Col \"\"X\"\"\" DollarString:$q$ a'b $q$")]
    [InlineData("a::int[1]", "Word:a Punct:: Punct:: Word:int Punct:[ Number:1 Punct:]")]
    [InlineData("select 1 -- comment ; drop\n; x", "Word:select Number:1 Punct:; Word:x")]
    [InlineData("a/*c*/-/* d */b", "Word:a Operator:- Word:b")]
    public void Cuts_text_as_postgres_does(string sql, string expected)
    {
        var (kinds, doubts) = Lex(sql);
        Assert.Equal(expected, kinds);
        Assert.True((doubts & ~SqlDoubts.BlockComment) == SqlDoubts.None, doubts.ToString());
    }

    [Theory]
    [InlineData("START_REPLICATION SLOT \"s\" LOGICAL 16/B374D848 (proto_version '1')",
        "Word:START_REPLICATION Word:SLOT QuotedIdentifier:\"s\" Word:LOGICAL Lsn:16/B374D848 Punct:( Word:proto_version String:'1' Punct:)")]
    [InlineData("x 0/0 ab/ 12", "Word:x Lsn:0/0 Lsn:ab/ Number:12")]
    [InlineData("show -- not a comment", "Word:show Operator:- Operator:- Word:not Word:a Word:comment")]
    public void Replication_mode_cuts_wal_positions_and_has_no_comments(string command, string expected)
    {
        var tokens = new List<SqlToken>();
        SqlLexer.Lex(command, tokens, SqlLexMode.Replication);
        Assert.Equal(expected, string.Join(" ", tokens.Select(t => $"{t.Kind}:{t.Text(command)}")));
    }

    [Fact]
    public void Block_comments_nest()
    {
        var (kinds, doubts) = Lex("/* a /* b */ c */ select");
        Assert.Equal("Word:select", kinds);
        Assert.Equal(SqlDoubts.BlockComment, doubts);
    }

    [Fact]
    public void An_escape_string_keeps_its_escaped_quote_inside()
    {
        var (kinds, doubts) = Lex(@"select E'it\'s; not the end' ; x");
        Assert.Equal(@"Word:select Word:E String:'it\'s; not the end' Punct:; Word:x", kinds);
        Assert.Equal(SqlDoubts.PrefixedString, doubts);
    }

    [Theory]
    [InlineData("select 'a\\b'", SqlDoubts.Backslash)]
    [InlineData("select B'101'", SqlDoubts.PrefixedString)]
    [InlineData("select U&'x'", SqlDoubts.PrefixedString)]
    [InlineData("select 'open", SqlDoubts.Unterminated)]
    [InlineData("select \"open", SqlDoubts.Unterminated)]
    [InlineData("select $a$ open", SqlDoubts.Unterminated)]
    [InlineData("select /* open", SqlDoubts.BlockComment | SqlDoubts.Unterminated)]
    [InlineData("select $1", SqlDoubts.Parameter)]
    [InlineData("select $ 1", SqlDoubts.StrayDollar)]
    [InlineData("select \"an_identifier_that_is_much_longer_than_the_sixty_three_bytes_allowed\"", SqlDoubts.LongIdentifier)]
    [InlineData("select an_identifier_that_is_much_longer_than_the_sixty_three_bytes_allowed", SqlDoubts.LongIdentifier)]
    public void Reports_what_it_cannot_read_with_certainty(string sql, object expected) => Assert.Equal((SqlDoubts)expected, Lex(sql).Doubts);
}
