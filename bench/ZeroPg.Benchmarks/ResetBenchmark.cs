using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace ZeroPg.Benchmarks;

/// <summary>
/// `dotnet run -c Release -- reset [tests] [test-ms]`: the per-test cost of a clean database for a suite with a small migrated
/// schema (6 tables, 100 seed rows): RestoreAsync when tests change rows only (put back in place), RestoreAsync when each
/// test also creates a table (engine swap) with and without a spare engine (KeepWarmEngine), and a copy of a migrated
/// template per test (CREATE DATABASE ... TEMPLATE, then DROP DATABASE). Each test's cost is from the reset's start to the
/// first answer in the clean database; test-ms is how long each "test" then runs (a spare engine starts meanwhile).
/// Also the engines' RSS (Node children of this process: spares, and engines of servers not yet gone, included).
/// </summary>
internal static class ResetBenchmark
{
    private const string Schema = """
        create table customers (id serial primary key, name text not null, email text unique, created timestamptz default now());
        create table products (id serial primary key, sku text unique not null, name text not null, price numeric(10,2) not null);
        create table orders (id serial primary key, customer_id int not null references customers, placed timestamptz default now(), status text not null default 'new');
        create index on orders (customer_id);
        create table order_lines (order_id int references orders on delete cascade, product_id int references products, quantity int not null check (quantity > 0), primary key (order_id, product_id));
        create table payments (id serial primary key, order_id int not null references orders, amount numeric(10,2) not null, paid timestamptz);
        create table "__EFMigrationsHistory" ("MigrationId" varchar(150) primary key, "ProductVersion" varchar(32) not null);
        insert into "__EFMigrationsHistory" values ('20250101000000_Initial', '10.0.0'), ('20250201000000_Payments', '10.0.0');
        insert into customers (name, email) select 'customer ' || g, 'c' || g || '@example.com' from generate_series(1, 50) g;
        insert into products (sku, name, price) select 'sku-' || g, 'product ' || g, g * 1.5 from generate_series(1, 50) g;
        """;

    private const string TestBody = """
        insert into orders (customer_id) values (1);
        insert into order_lines values (currval('orders_id_seq'), 1, 2);
        select count(*) from orders;
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var tests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var testMs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        Console.WriteLine($"# reset between tests: {tests} tests, each running {testMs} ms after its first answer; load average {LoadAverage()}");
        Console.WriteLine("| per-test reset | median | min | max | first | engines' RSS at the end | notes |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        await RestoreAsync(tests, testMs, ddl: false, spare: false);
        await RestoreAsync(tests, testMs, ddl: true, spare: true);
        await RestoreAsync(tests, testMs, ddl: true, spare: false);
        await TemplateAsync(tests, testMs);
        return 0;
    }

    /// <param name="ddl">Each test also creates a table: the restore must swap engines (else it puts rows back in place).</param>
    private static async Task RestoreAsync(int tests, int testMs, bool ddl, bool spare)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { KeepWarmEngine = spare }, null);
        var cs = server.GetConnectionString() + ";Timeout=60;Command Timeout=60";
        await ExecAsync(cs, Schema);
        var clock = Stopwatch.StartNew();
        await using var snapshot = await server.SnapshotAsync();
        var snapshotMs = clock.Elapsed.TotalMilliseconds;
        var costs = new List<double>();
        for (var i = 0; i < tests; i++)
        {
            clock.Restart();
            await server.RestoreAsync(snapshot);
            await ExecAsync(cs, TestBody);
            costs.Add(clock.Elapsed.TotalMilliseconds);
            if (ddl)
                await ExecAsync(cs, $"create table scratch_{i} (x int)");
            await Task.Delay(testMs);
        }
        var what = ddl
            ? $"RestoreAsync, tests change the schema (engine swap), {(spare ? "spare engine (KeepWarmEngine)" : "no spare engine")}"
            : "RestoreAsync, tests change rows only (rows put back in place)";
        Report(what, costs, EnginesRss(), $"snapshot {snapshotMs:0} ms, dump {snapshot.SizeBytes / 1024 / 1024} MB");
    }

    private static async Task TemplateAsync(int tests, int testMs)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), null);
        var admin = server.GetConnectionString() + ";Timeout=60;Command Timeout=60";
        await ExecAsync(admin, "create database app_template");
        await ExecAsync(Database(admin, "app_template") + ";Pooling=false", Schema);
        var costs = new List<double>();
        var drops = new List<double>();
        long peakRss = 0;
        var clock = new Stopwatch();
        for (var i = 0; i < tests; i++)
        {
            clock.Restart();
            await ExecAsync(admin, $"create database test_{i} template app_template");
            var test = Database(admin, $"test_{i}");
            await ExecAsync(test, TestBody);
            costs.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(testMs);
            peakRss = Math.Max(peakRss, EnginesRss());
            NpgsqlConnection.ClearAllPools();
            clock.Restart();
            await ExecAsync(admin, $"drop database test_{i}");
            drops.Add(clock.Elapsed.TotalMilliseconds);
        }
        Report("CREATE DATABASE ... TEMPLATE per test, DROP DATABASE after it", costs, peakRss, $"DROP DATABASE median {Median(drops):0} ms; RSS with the template and one copy running");
    }

    private static string Database(string connectionString, string name)
        => new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static void Report(string what, List<double> costs, long rss, string extra)
    {
        var sorted = costs.Order().ToList();
        Console.WriteLine($"| {what} | {Median(costs):0} ms | {sorted[0]:0} ms | {sorted[^1]:0} ms | {costs[0]:0} ms | {rss / 1024 / 1024} MB | {extra} |");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The summed RSS of this process's Node children (the engines, spares included).</summary>
    private static long EnginesRss()
    {
        long total = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) != Environment.ProcessId)
                    continue;
                var rss = File.ReadLines(Path.Combine(directory, "status")).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (rss is not null)
                    total += long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // A process that ended meanwhile.
            }
        }
        return total;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
