using System.Text;
using ZeroPg.Cli.Scripts;

namespace ZeroPg.Tests.Cli.Scripts;

public sealed class ScriptReaderTests
{
    private static List<ScriptItem> Read(string script, int maxCopyPart = 4 * 1024 * 1024)
    {
        var reader = new ScriptReader(new StringReader(script)) { MaxCopyPartChars = maxCopyPart };
        var items = new List<ScriptItem>();
        while (reader.Next() is { } item)
            items.Add(item);
        Assert.Equal(script, string.Concat(items.Select(i => i.Raw))); // nothing lost or added
        return items;
    }

    private static List<string> Statements(string script)
        => Read(script).OfType<ScriptStatement>().Select(s => s.Sql).ToList();

    [Fact]
    public void SplitsOnSemicolonsOutsideQuotesCommentsAndParentheses()
    {
        var statements = Statements("""
            -- a comment; not a statement
            SELECT 'a;b', "x;y", E'it\'s;', $$;$$, $fn$ body; $$ still $fn$;
            /* block; /* nested; */ still */ SELECT 2;
            CREATE RULE r AS ON INSERT TO t DO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));
            SELECT $1, a$b$c FROM t;
            """);
        Assert.Equal(4, statements.Count);
        Assert.Equal("SELECT 'a;b', \"x;y\", E'it\\'s;', $$;$$, $fn$ body; $$ still $fn$;", statements[0]);
        Assert.StartsWith("SELECT 2;", statements[1]);
        Assert.EndsWith("VALUES (2));", statements[2]);
        Assert.Equal("SELECT $1, a$b$c FROM t;", statements[3]);
    }

    [Fact]
    public void KeepsSqlStandardFunctionBodiesWhole()
    {
        var statements = Statements("""
            CREATE FUNCTION public.f(a integer) RETURNS integer
                LANGUAGE sql
                BEGIN ATOMIC
             SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;
             SELECT (a + 1);
            END;
            CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;
            BEGIN;
            SELECT 1;
            """);
        Assert.Equal(4, statements.Count);
        Assert.EndsWith("SELECT (a + 1);\nEND;", statements[0]);
        Assert.EndsWith("VALUES (1); END;", statements[1]);
        Assert.Equal("BEGIN;", statements[2]);
    }

    [Fact]
    public void BackslashesEscapeOnlyWhereTheServerSaysSo()
    {
        // With standard_conforming_strings on, '\' is a one-character string; off, it escapes the quote.
        Assert.Equal(2, Statements("SELECT '\\'; SELECT 2;").Count);
        var reader = new ScriptReader(new StringReader("SELECT 'a\\';b'; SELECT 2;")) { StandardConformingStrings = false };
        Assert.Equal("SELECT 'a\\';b';", ((ScriptStatement)reader.Next()!).Sql);
    }

    [Fact]
    public void ReadsCopyBlocksAndMetaCommandsWithTheirLines()
    {
        var items = Read("""
            \restrict abc123
            SET client_encoding = 'UTF8';

            COPY public.t (id, v) FROM stdin;
            1	a;b
            2	\N
            \.
            COPY public.u FROM STDIN;
            \.
            \unrestrict abc123
            -- trailer

            """);
        var meta = items.OfType<ScriptMetaCommand>().ToList();
        Assert.Equal(["restrict", "unrestrict"], meta.Select(m => m.Name));
        Assert.Equal(["abc123"], meta[0].Arguments);
        Assert.Equal(1, meta[0].Line);
        var copy = items.OfType<ScriptStatement>().Where(s => s.IsCopyFromStdin).ToList();
        Assert.Equal([4, 8], copy.Select(c => c.Line));
        var data = Assert.Single(items.OfType<ScriptCopyData>());
        Assert.Equal(5, data.Line);
        Assert.Equal(2, data.Rows);
        Assert.Equal("1\ta;b\n2\t\\N\n", data.Raw);
        Assert.Equal([7, 9], items.OfType<ScriptCopyEnd>().Select(e => e.Line));
        Assert.IsType<ScriptTrailer>(items[^1]);
        Assert.Equal(10, meta[1].Line);
    }

    [Fact]
    public void SplitsLargeCopyBlocksIntoBoundedParts()
    {
        var script = new StringBuilder("COPY t FROM stdin;\n");
        for (var i = 0; i < 1000; i++)
            script.Append(i).Append("\tvalue number ").Append(i).Append('\n');
        script.Append("\\.\n");
        var items = Read(script.ToString(), maxCopyPart: 2000);
        var parts = items.OfType<ScriptCopyData>().ToList();
        Assert.True(parts.Count > 5);
        Assert.Equal(1000, parts.Sum(p => p.Rows));
        Assert.All(parts, p => Assert.EndsWith("\n", p.Raw));
        Assert.Equal(2, parts[0].Line);
        Assert.Equal(2 + parts[0].Rows, parts[1].Line);
    }

    [Fact]
    public void ATruncatedCopyBlockNamesTheLineWhereItStarts()
    {
        var reader = new ScriptReader(new StringReader("SELECT 1;\nCOPY t FROM stdin;\n1\ta\n2\tb"));
        Assert.IsType<ScriptStatement>(reader.Next());
        Assert.IsType<ScriptStatement>(reader.Next());
        var error = Assert.Throws<ScriptFormatException>(() => reader.Next());
        Assert.Equal(3, error.Line);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void AnUnterminatedLastStatementIsMarked()
    {
        var last = Read("SELECT 1;\nCREATE TABLE t (id int").OfType<ScriptStatement>().Last();
        Assert.False(last.Terminated);
        Assert.Equal(2, last.Line);
        Assert.True(last.StartsWith("CREATE", "TABLE"));
    }

    [Fact]
    public void WordsClassifyStatements()
    {
        var statement = Read("-- Name: t; Type: TABLE\nALTER TABLE public.t OWNER TO app;").OfType<ScriptStatement>().Single();
        Assert.Equal(["ALTER", "TABLE", "PUBLIC", "T", "OWNER", "TO", "APP"], statement.Words);
        Assert.Equal(2, statement.Line);
        Assert.Equal("ALTER TABLE public.t OWNER TO app;", statement.Sql);
    }

    [Fact]
    public void MetaCommandArgumentsFollowPsqlQuoting()
    {
        var (name, arguments) = ScriptReader.ParseMetaCommand("\\connect -reuse-previous=on \"dbname='it''s'\"");
        Assert.Equal("connect", name);
        Assert.Equal(["-reuse-previous=on", "dbname='it''s'"], arguments);
    }
}
