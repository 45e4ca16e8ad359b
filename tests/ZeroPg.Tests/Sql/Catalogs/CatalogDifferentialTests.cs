using System.Data;
using System.Globalization;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sql.Catalogs;

/// <summary>
/// What database tools see, ZeroPg beside native PostgreSQL 15 with the same schema: psql's \d family, the introspection queries
/// pgAdmin, DBeaver and DataGrip send on connect and when browsing a schema (written after their public templates, with this test's
/// names), information_schema, the statistics views, pg_depend / pg_description joins and Npgsql's GetSchema collections. Each is
/// read by a fresh client before and after another client used advisory locks, a logical replication slot, a publication, a temp
/// table with an index and a toast table, a cursor WITH HOLD and a prepared statement, which ZeroPg keeps objects of its own in the
/// engine for. Results must be equal but for the differences PostgreSQL 18 makes by design (<see cref="Pg18Differences"/>).
/// </summary>
public sealed class CatalogDifferentialTests(CatalogDifferentialTests.Servers servers) : IClassFixture<CatalogDifferentialTests.Servers>
{
    private const string Schema = """
        CREATE TABLE authors(id int PRIMARY KEY, name text NOT NULL UNIQUE, bio text);
        CREATE TABLE books(id bigserial PRIMARY KEY, author_id int REFERENCES authors(id), title varchar(200) NOT NULL CHECK (title <> ''),
            published date DEFAULT current_date);
        CREATE INDEX books_title ON books(title);
        CREATE VIEW book_titles AS SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id;
        CREATE SEQUENCE tickets;
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        COMMENT ON TABLE books IS 'the books';
        COMMENT ON COLUMN books.title IS 'as printed';
        CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql AS 'SELECT i + 1';
        CREATE SCHEMA app;
        CREATE TABLE app.events(id int, at timestamptz);
        INSERT INTO authors VALUES (1, 'Le Guin', NULL);
        ALTER TABLE authors ALTER COLUMN bio SET (n_distinct = 100);
        """;

    /// <summary>What the other client does: every feature ZeroPg keeps machinery in the engine for. Its connection stays open.</summary>
    private static readonly string[] OtherClientWork =
    [
        "SELECT pg_advisory_lock(61)",
        "SELECT * FROM pg_locks",
        "CREATE TEMP TABLE scratch(id int PRIMARY KEY, note text)",
        "CREATE INDEX scratch_note ON scratch(note)",
        "BEGIN; DECLARE held CURSOR WITH HOLD FOR SELECT * FROM authors; COMMIT",
        "PREPARE find_author AS SELECT * FROM authors WHERE id = $1",
        "SELECT * FROM pg_replication_slots",
        "SELECT 1 FROM pg_create_logical_replication_slot('tool_slot', 'pgoutput')",
        "CREATE PUBLICATION tool_pub FOR TABLE authors",
        "INSERT INTO authors VALUES (2, 'Butler', 'Kindred')",
    ];

    /// <summary>
    /// The differences PostgreSQL 18 makes by design, in one place: (query, a line that only one side has, why). Such lines are left
    /// out of both sides before they are compared.
    /// </summary>
    public static readonly (string Query, string Pattern, string Reason)[] Pg18Differences =
    [
        ("*", "not_null", "PostgreSQL 18 keeps NOT NULL as named pg_constraint rows (\"t_c_not_null\"); 15 had none, and information_schema "
            + "named them \"<nsp>_<rel>_<n>_not_null\""),
        ("\\d books", "Not-null constraints:", "the same, as psql lists them"),
        ("pg_depend", "rule _RETURN on view book_titles|view book_titles|n", "PostgreSQL 16 dropped the normal dependency of a view's _RETURN rule on its view (the internal one stays)"),
        ("pg_class columns", "relallfrozen", "PostgreSQL 18 added pg_class.relallfrozen"),
    ];

    /// <summary>Queries by name: psql meta-commands start with a backslash; the rest is SQL whose rows are compared as a set.</summary>
    public static readonly Dictionary<string, string> Queries = new()
    {
        ["\\dt"] = "\\dt",
        ["\\di"] = "\\di",
        ["\\dn"] = "\\dn",
        ["\\dn+"] = "\\dn+",
        ["\\df"] = "\\df",
        ["\\dv"] = "\\dv",
        ["\\ds"] = "\\ds",
        ["\\dT"] = "\\dT",
        ["\\dy"] = "\\dy",
        ["\\dp"] = "\\dp",
        ["\\dx"] = "\\dx",
        ["\\dRp"] = "\\dRp",
        ["\\d authors"] = "\\d authors",
        ["\\d books"] = "\\d books",
        ["\\dd"] = "\\dd",
        ["pg_class"] = "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT pg_is_other_temp_schema(n.oid) AND c.oid >= 16384",
        ["pg_class toast"] = "SELECT count(*) FROM pg_class c WHERE c.relkind = 't' AND c.oid >= 16384 AND NOT pg_is_other_temp_schema(c.relnamespace)",
        ["pg_namespace"] = "SELECT nspname FROM pg_namespace WHERE NOT pg_is_other_temp_schema(oid) AND nspname !~ '^pg_toast_temp'",
        ["pg_proc"] = "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT pg_is_other_temp_schema(n.oid)",
        ["pg_type"] = "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            + " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT pg_is_other_temp_schema(n.oid)",
        ["pg_attribute"] = "SELECT a.attrelid::regclass::text, a.attname FROM pg_attribute a WHERE a.attrelid >= 16384 AND a.attnum > 0"
            + " AND NOT pg_is_other_temp_schema((SELECT relnamespace FROM pg_class WHERE oid = a.attrelid))",
        // PGlite stamps every column with an option of its own (pg_attver=N); a client sees only its own (bio's n_distinct)
        ["pg_attribute options"] = "SELECT a.attrelid::regclass::text, a.attname, COALESCE(array_to_string(a.attoptions, ','), 'null')"
            + " FROM pg_attribute a WHERE a.attnum > 0 AND NOT pg_is_other_temp_schema((SELECT relnamespace FROM pg_class WHERE oid = a.attrelid))"
            + " AND (a.attrelid >= 16384 OR a.attrelid = 'pg_tables'::regclass)",
        ["pg_index"] = "SELECT indexrelid::regclass::text, indrelid::regclass::text FROM pg_index WHERE indrelid >= 16384"
            + " AND NOT pg_is_other_temp_schema((SELECT relnamespace FROM pg_class WHERE oid = indrelid))",
        ["pg_constraint"] = "SELECT conname, contype FROM pg_constraint WHERE (connamespace >= 16384 OR conrelid >= 16384) AND NOT pg_is_other_temp_schema(connamespace)",
        ["pg_trigger"] = "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal",
        ["pg_event_trigger"] = "SELECT evtname FROM pg_event_trigger",
        ["pg_depend"] = "SELECT pg_describe_object(classid, objid, objsubid), pg_describe_object(refclassid, refobjid, refobjsubid), deptype"
            + " FROM pg_depend d WHERE (objid >= 16384 OR refobjid >= 16384) AND classid <> 'pg_constraint'::regclass"
            + " AND NOT pg_is_other_temp_schema(COALESCE((SELECT relnamespace FROM pg_class WHERE oid = d.objid AND d.classid = 'pg_class'::regclass),"
            + " (SELECT typnamespace FROM pg_type WHERE oid = d.objid AND d.classid = 'pg_type'::regclass), 0))"
            + " AND NOT pg_is_other_temp_schema(COALESCE((SELECT relnamespace FROM pg_class WHERE oid = d.refobjid AND d.refclassid = 'pg_class'::regclass), 0))",
        ["pg_description"] = "SELECT pg_describe_object(classoid, objoid, objsubid), description FROM pg_description WHERE objoid >= 16384",
        ["pg_tables"] = "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            + " AND NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["pg_indexes"] = "SELECT schemaname, tablename, indexname FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            + " AND NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["pg_sequences"] = "SELECT schemaname, sequencename FROM pg_sequences",
        ["pg_views"] = "SELECT schemaname, viewname FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        ["pg_stat_user_tables"] = "SELECT schemaname, relname FROM pg_stat_user_tables WHERE NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["pg_statio_user_tables"] = "SELECT schemaname, relname FROM pg_statio_user_tables WHERE NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["pg_stat_user_indexes"] = "SELECT schemaname, relname, indexrelname FROM pg_stat_user_indexes WHERE NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["pg_stat_all_tables toast"] = "SELECT count(*) FROM pg_stat_all_tables WHERE relid >= 16384 AND schemaname ~ '^pg_toast'"
            + " AND NOT pg_is_other_temp_schema(schemaname::regnamespace)",
        ["information_schema.tables"] = "SELECT table_schema, table_name, table_type FROM information_schema.tables"
            + " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        ["information_schema.columns"] = "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
            + " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        ["information_schema.schemata"] = "SELECT schema_name FROM information_schema.schemata WHERE schema_name !~ '^pg_(toast_)?temp_'"
            + " OR NOT pg_is_other_temp_schema(schema_name::regnamespace)",
        ["information_schema.routines"] = "SELECT routine_schema, routine_name FROM information_schema.routines"
            + " WHERE routine_schema NOT IN ('pg_catalog', 'information_schema')",
        ["information_schema.triggers"] = "SELECT trigger_schema, trigger_name, event_object_table FROM information_schema.triggers",
        ["information_schema.sequences"] = "SELECT sequence_schema, sequence_name FROM information_schema.sequences",
        ["information_schema.table_constraints"] = "SELECT table_schema, table_name, constraint_name, constraint_type FROM information_schema.table_constraints"
            + " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        ["information_schema.key_column_usage"] = "SELECT table_name, column_name, constraint_name FROM information_schema.key_column_usage"
            + " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        // pgAdmin 4: the schema list, a schema's tables, functions, sequences and a table's triggers
        ["pgadmin schemas"] = "SELECT nsp.nspname AS name, has_schema_privilege(nsp.oid, 'CREATE') AS can_create FROM pg_catalog.pg_namespace nsp"
            + " WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname",
        ["pgadmin tables"] = "SELECT rel.relname AS name, des.description FROM pg_catalog.pg_class rel LEFT OUTER JOIN pg_catalog.pg_description des"
            + " ON (des.objoid = rel.oid AND des.objsubid = 0 AND des.classoid = 'pg_class'::regclass) WHERE rel.relkind IN ('r', 's', 't', 'p')"
            + " AND rel.relnamespace = 'public'::regnamespace ORDER BY rel.relname",
        ["pgadmin functions"] = "SELECT pr.proname AS name, pg_catalog.pg_get_function_identity_arguments(pr.oid) AS args FROM pg_catalog.pg_proc pr"
            + " JOIN pg_catalog.pg_namespace nsp ON nsp.oid = pr.pronamespace WHERE pr.prokind IN ('f', 'w') AND nsp.nspname = 'public'",
        ["pgadmin triggers"] = "SELECT t.tgname AS name, t.tgenabled FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal"
            + " AND t.tgrelid = 'public.authors'::regclass ORDER BY t.tgname",
        ["pgadmin sequences"] = "SELECT rel.relname AS name, nsp.nspname AS schema FROM pg_catalog.pg_class rel"
            + " JOIN pg_catalog.pg_namespace nsp ON rel.relnamespace = nsp.oid WHERE rel.relkind = 'S' ORDER BY rel.relname",
        // DBeaver: the schemas with their comments, a schema's tables read as c.* (its columns by name here)
        ["dbeaver schemas"] = "SELECT n.nspname, d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d"
            + " ON d.objoid = n.oid AND d.objsubid = 0 AND d.classoid = 'pg_namespace'::regclass WHERE NOT pg_is_other_temp_schema(n.oid)"
            + " AND n.nspname !~ '^pg_toast_temp' ORDER BY n.nspname",
        ["dbeaver tables"] = "SELECT x.relname, x.relkind, x.description FROM (SELECT c.*, d.description FROM pg_catalog.pg_class c"
            + " LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass"
            + " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind NOT IN ('i', 'I', 'c')) x",
        // DataGrip: objects with their xmin as a state number
        ["datagrip schemas"] = "SELECT N.nspname AS name, D.description, pg_catalog.pg_get_userbyid(N.nspowner) AS owner, N.xmin IS NOT NULL AS has_state"
            + " FROM pg_catalog.pg_namespace N LEFT JOIN pg_catalog.pg_description D ON N.oid = D.objoid"
            + " WHERE NOT pg_is_other_temp_schema(N.oid) AND N.nspname !~ '^pg_toast_temp'",
        ["datagrip relations"] = "SELECT T.relkind AS kind, T.relname AS name, T.xmin IS NOT NULL AS has_state FROM pg_catalog.pg_class T"
            + " WHERE T.relnamespace = 'public'::regnamespace AND T.relkind IN ('r', 'm', 'v', 'f', 'p')",
    };

    public static TheoryData<string> QueryNames => [.. Queries.Keys];

    /// <summary>The catalogs whose rows ZeroPg substitutes, read as alias.* and as *.</summary>
    public static TheoryData<string> RewrittenCatalogs => ["pg_class", "pg_type", "pg_proc", "pg_namespace", "pg_attribute", "pg_index", "pg_constraint",
        "pg_trigger", "pg_event_trigger", "pg_depend", "pg_description", "pg_tables", "pg_indexes", "pg_stat_user_tables", "information_schema.tables",
        "information_schema.columns"];

    [Theory]
    [MemberData(nameof(QueryNames))]
    public void Tools_see_what_postgres_shows_before_another_client_used_zeropgs_machinery(string query)
        => Assert.Equal(servers.Before[("pg", query)], servers.Before[("zeropg", query)]);

    [Theory]
    [MemberData(nameof(QueryNames))]
    public void Tools_see_what_postgres_shows_after_another_client_used_zeropgs_machinery(string query)
        => Assert.Equal(servers.After[("pg", query)], servers.After[("zeropg", query)]);

    [Theory]
    [MemberData(nameof(RewrittenCatalogs))]
    public async Task Star_over_a_catalog_returns_the_engine_catalogs_columns_in_order(string catalog)
    {
        await using var connection = await servers.OpenZeroPgAsync();
        var own = await Rows(connection, $"SELECT attname FROM pg_attribute WHERE attrelid = '{catalog}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            ordered: true);
        Assert.NotEmpty(own);
        Assert.Equal(own, await ColumnNames(connection, $"SELECT c.* FROM {catalog} c LIMIT 0"));
        Assert.Equal(own, await ColumnNames(connection, $"SELECT * FROM {catalog} LIMIT 0"));
    }

    [Fact]
    public async Task Pg_class_and_pg_type_read_by_position_give_the_columns_postgres_gives()
    {
        await using var zeropg = await servers.OpenZeroPgAsync();
        await using var pg = await servers.OpenPostgresAsync();
        var added = Pg18Differences.Where(d => d.Query == "pg_class columns").Select(d => d.Pattern).ToHashSet();
        foreach (var sql in new[] { "SELECT c.* FROM pg_class c LIMIT 0", "SELECT * FROM pg_type LIMIT 0" })
            Assert.Equal(await ColumnNames(pg, sql), [.. (await ColumnNames(zeropg, sql)).Where(c => !added.Contains(c))]);
    }

    [Fact]
    public async Task Pg_locks_lists_the_locks_the_clients_own_statements_took_and_the_other_clients_advisory_lock()
    {
        const string locks = "SELECT locktype, mode, granted, COALESCE(relation::regclass::text, ''), COALESCE(objid::text, '') FROM pg_locks";
        await using var zeropg = await servers.OpenZeroPgAsync();
        await using var pg = await servers.OpenPostgresAsync();
        var expected = await Rows(pg, locks);
        Assert.Contains("advisory|ExclusiveLock|True||61", expected);
        Assert.Equal(expected, await Rows(zeropg, locks));
        Assert.Equal(await Rows(pg, "SELECT * FROM pg_locks WHERE pid = pg_backend_pid()").ContinueWith(t => t.Result.Count),
            (await Rows(zeropg, "SELECT * FROM pg_locks WHERE pid = pg_backend_pid()")).Count);
    }

    [Fact]
    public async Task Pg_my_temp_schema_is_zero_until_the_client_makes_a_temp_object()
    {
        foreach (var open in new Func<Task<NpgsqlConnection>>[] { servers.OpenPostgresAsync, servers.OpenZeroPgAsync })
        {
            await using var connection = await open();
            Assert.Equal(["0"], await Rows(connection, "SELECT pg_my_temp_schema()"));
            Assert.Empty(await Rows(connection, "SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()"));
            await Rows(connection, "CREATE TEMP TABLE mine(x int)");
            var schema = Assert.Single(await Rows(connection, "SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()"));
            Assert.StartsWith("pg_temp_", schema);
            await Rows(connection, "DROP TABLE mine");
            Assert.Equal([schema], await Rows(connection, "SELECT pg_my_temp_schema()::regnamespace::text"));
        }
    }

    [Fact]
    public async Task Another_clients_temp_table_its_index_toast_table_and_type_are_invisible()
    {
        var names = servers.OtherTempNames;
        Assert.Equal(5, names.Count); // scratch (and its row type), its pkey, its index, its toast table and that one's index
        await using var connection = await servers.OpenZeroPgAsync();
        foreach (var name in names)
        {
            Assert.Empty(await Rows(connection, $"SELECT relname FROM pg_class WHERE relname = '{name}'"));
            Assert.Empty(await Rows(connection, $"SELECT typname FROM pg_type WHERE typname = '{name}'"));
            Assert.Empty(await Rows(connection, $"SELECT relname FROM pg_stat_all_tables WHERE relname = '{name}'"));
            Assert.Empty(await Rows(connection, $"SELECT indexrelname FROM pg_statio_all_indexes WHERE indexrelname = '{name}'"));
        }
    }

    public static TheoryData<string> SchemaCollections => ["Tables", "Views", "Columns", "Indexes", "IndexColumns", "Constraints", "PrimaryKey", "UniqueKeys",
        "ForeignKeys", "ConstraintColumns", "Schemata"];

    [Theory]
    [MemberData(nameof(SchemaCollections))]
    public async Task Npgsql_GetSchema_collections_agree(string collection)
    {
        await using var zeropg = await servers.OpenZeroPgAsync();
        await using var pg = await servers.OpenPostgresAsync();
        Assert.Equal(SchemaRows(pg, collection), SchemaRows(zeropg, collection));
    }

    [Fact]
    public async Task Npgsql_loads_the_databases_types_and_reads_a_user_enum()
    {
        await using var zeropg = await servers.OpenZeroPgAsync();
        await zeropg.ReloadTypesAsync();
        await using var command = new NpgsqlCommand("SELECT 'happy'::mood, ARRAY['sad'::mood]", zeropg);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("happy", reader.GetString(0));
        Assert.Equal(["sad"], reader.GetFieldValue<string[]>(1));
    }

    /// <summary>A collection's rows as text, the temp schemas (Postgres lists every backend's that ever had one) and catalog columns left out.</summary>
    private static List<string> SchemaRows(NpgsqlConnection connection, string collection)
    {
        var table = collection is "Tables" or "Views" or "Schemata" ? connection.GetSchema(collection)
            : connection.GetSchema(collection, [null, "public"]);
        var rows = new List<string>();
        foreach (DataRow row in table.Rows)
        {
            var text = string.Join("|", row.ItemArray.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
            if (!System.Text.RegularExpressions.Regex.IsMatch(text, @"\|pg_(toast_)?temp_\d+\||not_null"))
                rows.Add(text);
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static async Task<List<string>> Rows(NpgsqlConnection connection, string sql, bool ordered = false)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
                values[i] = reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!;
            rows.Add(string.Join("|", values));
        }
        if (!ordered)
            rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static async Task<List<string>> ColumnNames(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        return [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
    }

    /// <summary>Both servers with the same schema; every query's result from a fresh client before and after the other client's work.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        private readonly NativePostgres _postgres = new() { Settings = ["wal_level=logical"] };
        private ZeroPgServer _zeroPg = null!;
        private readonly List<NpgsqlConnection> _others = [];

        public Dictionary<(string Server, string Query), string> Before { get; } = [];

        public Dictionary<(string Server, string Query), string> After { get; } = [];

        /// <summary>The names of the other client's temp relations and type in ZeroPg, as that client reads them.</summary>
        public List<string> OtherTempNames { get; } = [];

        public async Task InitializeAsync()
        {
            await Task.WhenAll(_postgres.InitializeAsync(), StartZeroPgAsync());
            async Task StartZeroPgAsync() => _zeroPg = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
            foreach (var open in new Func<Task<NpgsqlConnection>>[] { OpenPostgresAsync, OpenZeroPgAsync })
            {
                await using var connection = await open();
                await Execute(connection, Schema);
            }
            await ReadAllAsync(Before);
            foreach (var open in new Func<Task<NpgsqlConnection>>[] { OpenPostgresAsync, OpenZeroPgAsync })
            {
                var other = await open();
                _others.Add(other);
                foreach (var sql in OtherClientWork)
                    await Execute(other, sql);
            }
            OtherTempNames.AddRange((await Rows(_others[1], """
                SELECT c.relname FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relname !~ '^zeropg_'
                UNION ALL SELECT t.typname FROM pg_type t WHERE t.typnamespace = pg_my_temp_schema() AND t.typname = 'scratch'
                UNION ALL SELECT c.relname FROM pg_class c WHERE c.oid = (SELECT reltoastrelid FROM pg_class WHERE relname = 'scratch')
                UNION ALL SELECT i.relname FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid
                    WHERE x.indrelid = (SELECT reltoastrelid FROM pg_class WHERE relname = 'scratch')
                """)).Distinct());
            await ReadAllAsync(After);
        }

        public async Task<NpgsqlConnection> OpenPostgresAsync()
        {
            var connection = new NpgsqlConnection(_postgres.ConnectionString());
            await connection.OpenAsync();
            return connection;
        }

        public async Task<NpgsqlConnection> OpenZeroPgAsync()
        {
            var connection = new NpgsqlConnection(_zeroPg.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            return connection;
        }

        private async Task ReadAllAsync(Dictionary<(string, string), string> results)
        {
            foreach (var (server, url, open) in new[] { ("pg", _postgres.Url(), (Func<Task<NpgsqlConnection>>)OpenPostgresAsync), ("zeropg", _zeroPg.Url, OpenZeroPgAsync) })
            {
                await using var connection = await open();
                foreach (var (name, query) in Queries)
                {
                    var text = query.StartsWith('\\') ? await PsqlAsync(url, query) : string.Join("\n", await Rows(connection, query));
                    results[(server, name)] = query.StartsWith('\\') ? WithoutPg18Differences(name, text) : Sorted(WithoutPg18Differences(name, text));
                }
            }
        }

        private static async Task<string> PsqlAsync(string url, string command)
        {
            var result = await ExternalTool.RunAsync("psql", [url, "-X", "-P", "pager=off", "-c", command]);
            return result.All;
        }

        /// <summary>The text without the lines <see cref="Pg18Differences"/> lists, oids (numbers of 5 digits and more, also in names such as pg_toast_16384) as N.</summary>
        private static string WithoutPg18Differences(string query, string text)
            => System.Text.RegularExpressions.Regex.Replace(string.Join("\n", text.Split('\n')
                .Where(line => !Pg18Differences.Any(d => (d.Query == "*" || d.Query == query) && line.Contains(d.Pattern, StringComparison.Ordinal)))), "[0-9]{5,}", "N");

        /// <summary>Rows as set: sorted again once their oids are N.</summary>
        private static string Sorted(string text) => string.Join("\n", text.Split('\n').Order(StringComparer.Ordinal));

        private static async Task Execute(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        public async Task DisposeAsync()
        {
            foreach (var other in _others)
                await other.DisposeAsync();
            if (_zeroPg is not null)
                await _zeroPg.DisposeAsync();
            await _postgres.DisposeAsync();
        }
    }
}
