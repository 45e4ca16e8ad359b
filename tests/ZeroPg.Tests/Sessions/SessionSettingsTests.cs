using System.Buffers;
using ZeroPg.Protocol.Backend;
using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

public sealed class SessionSettingsTests
{
    private static SessionSettings Settings(params (string, string)[] startup)
        => new(startup.ToDictionary(p => p.Item1, p => p.Item2));

    private static byte[] Status(string name, string value)
    {
        var writer = new ArrayBufferWriter<byte>();
        ParameterStatus.Write(writer, name, value);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Startup_parameters_and_options_are_the_first_settings()
    {
        var settings = Settings(("user", "u"), ("database", "d"), ("application_name", "app"), ("_pq_.x", "1"),
            ("options", "-c search_path=s1 --work-mem=8MB -c my.key=v\\ w"));
        Assert.Equal(new Dictionary<string, string> { ["application_name"] = "app", ["search_path"] = "s1", ["work_mem"] = "8MB", ["my.key"] = "v w" },
            settings.Values.ToDictionary());
        Assert.True(settings.Dirty);
        Assert.False(Settings(("user", "u")).Dirty);
    }

    [Fact]
    public void A_client_is_told_a_setting_only_when_its_value_changed()
    {
        var settings = Settings(("application_name", "app"));
        var told = settings.StartupReport(new Dictionary<string, string> { ["DateStyle"] = "ISO, MDY", ["TimeZone"] = "UTC" }).ToList();
        Assert.Contains(("application_name", "app"), told);
        Assert.Contains(("DateStyle", "ISO, MDY"), told);
        Assert.False(settings.ShouldReport(Status("DateStyle", "ISO, MDY")));
        Assert.False(settings.ShouldReport(Status("datestyle", "ISO, MDY")));
        Assert.True(settings.ShouldReport(Status("DateStyle", "German, DMY")));
        Assert.False(settings.ShouldReport(Status("DateStyle", "German, DMY")));
    }

    [Fact]
    public void Restoring_resets_what_the_client_does_not_have_and_sets_what_differs()
    {
        var settings = Settings(("search_path", "s1"), ("application_name", "it's"));
        var applied = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["search_path"] = "s1", ["work_mem"] = "8MB", ["bad name"] = "x" };
        Assert.Equal("RESET work_mem;RESET \"bad name\";SELECT pg_catalog.set_config('application_name', 'it''s', false);", settings.RestoreSql(applied));
        Assert.Null(settings.RestoreSql(settings.Copy()));
        Assert.Null(Settings().RestoreSql(new Dictionary<string, string>()));
    }

    [Fact]
    public void A_snapshot_reads_custom_settings_the_client_set_and_replaces_its_settings()
    {
        var settings = Settings(("my.a", "1"));
        var effects = new UnitEffects();
        effects.Add(ZeroPg.Sql.SqlAnalysis.Of("set my.b = 2").Effects);
        settings.Note(effects);
        Assert.True(settings.Dirty);
        var sql = settings.SnapshotSql();
        Assert.StartsWith("SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session' UNION ALL", sql);
        Assert.Contains("ARRAY['my.a', 'my.b']", sql);
        settings.ApplySnapshot([("search_path", "x"), ("my.b", "2")]);
        Assert.False(settings.Dirty);
        Assert.Equal(2, settings.Values.Count);
    }

    private static ReadBack AfterSettledUnit(SessionSettings settings, string? sql = null)
    {
        var effects = new UnitEffects();
        if (sql is not null)
            effects.Add(ZeroPg.Sql.SqlAnalysis.Of(sql).Effects);
        var readBack = new ReadBack();
        ((ISessionState)settings).AfterUnitAsync(new UnitOutcome(effects, ZeroPg.Protocol.TransactionStatus.Idle, false, new EngineSessionState()), readBack);
        return readBack;
    }

    [Fact]
    public void Startup_settings_alone_are_not_read_back_but_a_set_is()
    {
        var settings = Settings(("application_name", "app"), ("options", "-c search_path=s1 -c my.key=v"));
        Assert.True(settings.Dirty);
        Assert.True(AfterSettledUnit(settings).IsEmpty);
        Assert.False(settings.Dirty);
        Assert.Equal("s1", settings.Values["search_path"]); // as the client wrote it
        Assert.False(AfterSettledUnit(settings, "set work_mem = '8MB'").IsEmpty);

        var withSet = Settings(("application_name", "app"));
        Assert.False(AfterSettledUnit(withSet, "set search_path = s2").IsEmpty); // the unit's own SET: read back
        Assert.False(AfterSettledUnit(Settings(("options", "-c transaction_isolation=serializable"))).IsEmpty);
        Assert.False(AfterSettledUnit(Settings(("options", "-c role=r1"))).IsEmpty);
    }

    [Fact]
    public void Settings_named_by_set_are_read_back_by_name_until_one_is_not()
    {
        var settings = Settings(("application_name", "app"));
        var effects = new UnitEffects();
        effects.Add(ZeroPg.Sql.SqlAnalysis.Of("SET search_path = x; RESET my.key").Effects);
        settings.Note(effects);
        Assert.True(settings.ReadsBackByName);
        var sql = settings.NamedSnapshotSql();
        Assert.Contains("ARRAY['search_path', 'my.key']", sql);
        Assert.DoesNotContain("pg_settings", sql);
        settings.ApplyNamedSnapshot([["search_path", "x"], ["my.key", null]]);
        Assert.False(settings.Dirty);
        Assert.False(settings.ReadsBackByName);
        Assert.Equal(new Dictionary<string, string> { ["application_name"] = "app", ["search_path"] = "x" }, settings.Values.ToDictionary());

        var mixed = new UnitEffects();
        mixed.Add(ZeroPg.Sql.SqlAnalysis.Of("SET work_mem = '8MB'").Effects);
        mixed.Add(ZeroPg.Sql.SqlAnalysis.Of("RESET ALL").Effects);
        settings.Note(mixed);
        Assert.True(settings.Dirty);
        Assert.False(settings.ReadsBackByName); // pg_settings whole, as before
        Assert.False(AfterSettledUnit(settings).IsEmpty);
    }

    [Fact]
    public void Auto_prepared_statements_are_shared_only_by_clients_that_parse_alike()
    {
        Assert.Equal("select 1", Settings(("application_name", "a")).AutoPrepareKey("select 1"));
        var key = Settings(("search_path", "s1"), ("TimeZone", "Europe/Paris")).AutoPrepareKey("select 1");
        Assert.Equal("search_path=s1\ntimezone=Europe/Paris\nselect 1", key);
        Assert.Equal(key, Settings(("timezone", "Europe/Paris"), ("application_name", "b"), ("SEARCH_PATH", "s1")).AutoPrepareKey("select 1"));
        Assert.NotEqual(key, Settings(("search_path", "s2"), ("TimeZone", "Europe/Paris")).AutoPrepareKey("select 1"));
    }
}
