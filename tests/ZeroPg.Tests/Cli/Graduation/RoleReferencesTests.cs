using ZeroPg.Cli.Graduation;
using ZeroPg.Cli.Scripts;

namespace ZeroPg.Tests.Cli.Graduation;

/// <summary>The roles a dump statement names, read with the server's SQL lexer: words in strings and comments are not roles.</summary>
public sealed class RoleReferencesTests
{
    private static ScriptStatement Statement(string sql) => Assert.IsType<ScriptStatement>(new ScriptReader(new StringReader(sql)).Next());

    [Theory]
    [InlineData("ALTER TABLE public.t OWNER TO app;", "app")]
    [InlineData("ALTER TABLE public.t OWNER TO \"App User\";", "App User")]
    [InlineData("GRANT SELECT ON TABLE public.t TO reader, \"Writer\" WITH GRANT OPTION;", "reader,Writer")]
    [InlineData("GRANT admin TO alice GRANTED BY postgres;", "alice")]
    [InlineData("GRANT SELECT ON TABLE public.t TO PUBLIC;", "")]
    [InlineData("REVOKE ALL ON SCHEMA public FROM old_role CASCADE;", "old_role")]
    [InlineData("ALTER DEFAULT PRIVILEGES FOR ROLE owner_a IN SCHEMA s GRANT SELECT ON TABLES TO reader;", "reader,owner_a")]
    [InlineData("CREATE SCHEMA app AUTHORIZATION app_owner;", "app_owner")]
    [InlineData("CREATE POLICY p ON t TO tenant USING (true);", "tenant")]
    [InlineData("COMMENT ON TABLE t IS 'ALTER x OWNER TO nobody';", "")]
    [InlineData("ALTER TABLE t /* OWNER TO nobody */ OWNER TO somebody;", "somebody")]
    public void Finds_the_roles_a_statement_names(string sql, string expected)
        => Assert.Equal(expected, string.Join(",", RoleReferences.Find(Statement(sql))));

    [Theory]
    [InlineData("CREATE ROLE app LOGIN;", "app")]
    [InlineData("CREATE USER \"Mixed\";", "Mixed")]
    [InlineData("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon; END IF; END $$;", "anon")]
    [InlineData("CREATE TABLE roles(note text DEFAULT 'x');", "")]
    public void Finds_the_roles_a_statement_creates(string sql, string expected)
        => Assert.Equal(expected, string.Join(",", RoleReferences.Created(Statement(sql))));
}
