using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// The packages work outside the repository: they are packed into a temp feed, the tool is installed
/// into a temp tool path and the library into a new project, and each runs a query with the source
/// tree hidden (a private mount namespace lays an empty tmpfs over it), so nothing may come from it,
/// and with no Node.js on the machine (/dev/null is mounted over each `node` on PATH): .NET is the only
/// prerequisite, the packages carry the Node that runs the engine. An Aspire AppHost made from the packages passes a
/// DistributedApplicationTestingBuilder test (Slow run). <see cref="TestFrameworksFromPackagesTests"/> runs the samples from the same feed.
/// </summary>
[TakesAbout(350)]
public sealed partial class PackagesTests
{
    [Fact] // in the default run although it takes minutes: CI must show that the installed tool runs with no node (issue 31)
    public async Task Tool_and_library_packages_run_a_query_with_the_source_tree_hidden()
    {
        var repo = RepoPaths.Root;
        var packed = await PackedFeed.SharedAsync();
        var work = Directory.CreateTempSubdirectory("zeropg-packages-").FullName;
        try
        {
            var version = packed.Version;
            var feed = packed.Feed;
            var config = await WriteNugetConfigAsync(work, feed);

            // Precompiled for linux-x64 (ReadyToRun), so a fresh process JIT-compiles less of a first start and query.
            using (var library = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"ZeroPg.Server.{version}.nupkg")))
            using (var image = library.GetEntry("lib/net10.0/ZeroPg.dll")!.Open())
                Assert.True(IsReadyToRun(image), "ZeroPg.Server's lib/net10.0/ZeroPg.dll is IL only");

            // RID-specific tool packages: `zeropg` only points at `zeropg.linux-x64`, which carries linux-x64's Node and no other.
            Assert.Equal(["linux-x64"], ToolPackages.PointedRids(feed, version));
            Assert.Equal(["linux-x64/bin/node"], ToolPackages.CarriedNodes(feed, version, "linux-x64", out _));

            var tools = Path.Combine(work, "tools");
            await Run("dotnet", ["tool", "install", "zeropg", "--tool-path", tools, "--configfile", config, "--version", version], work);
            foreach (var name in (string[])["ZeroPg.Cli.dll", "ZeroPg.dll"])
            {
                var installed = Directory.GetFiles(Path.Combine(tools, ".store"), name, SearchOption.AllDirectories);
                Assert.Single(installed);
                using var image = File.OpenRead(installed[0]);
                Assert.True(IsReadyToRun(image), $"the installed tool's {name} is IL only");
            }
            var zeropg = Path.Combine(tools, "zeropg");
            var versionLine = await RunHidden(repo, $"'{zeropg}' --version", work);
            Assert.Matches(@"^zeropg 0\.0\.0-ci\d+ \(PostgreSQL 18\.\d+, PGlite ", versionLine.Trim());
            Assert.Equal("42", await QueryThroughTool(repo, zeropg, work));

            var app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ZeroPg.Server" Version="{version}" />
                    <PackageReference Include="ZeroPg.Testing" Version="{version}" />
                    <PackageReference Include="Npgsql" Version="{NpgsqlVersion(repo)}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                await using var server = await ZeroPg.ZeroPgServer.StartAsync(o => o.Port = 0);
                await using var connection = new Npgsql.NpgsqlConnection(server.GetConnectionString());
                await connection.OpenAsync();
                await using var command = new Npgsql.NpgsqlCommand("select 'library:' || (6 * 7)", connection);
                Console.WriteLine(await command.ExecuteScalarAsync());
                await using var container = new ZeroPg.Testing.ZeroPgBuilder().WithUsername("pkg").WithPassword("pw").Build();
                await container.StartAsync();
                Console.WriteLine("testing:" + (await container.ExecScriptAsync("select current_user")).Stdout.Trim());
                """);
            File.Copy(config, Path.Combine(app, "nuget.config"));
            await Run("dotnet", ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app);
            var output = await RunHidden(repo, $"dotnet '{Path.Combine(app, "out", "app.dll")}'", app);
            Assert.Contains("library:42", output);
            using (var built = File.OpenRead(Path.Combine(app, "out", "ZeroPg.dll")))
                Assert.True(IsReadyToRun(built), "the app's ZeroPg.dll from the package is IL only");
            Assert.Contains("testing:pkg", output);

            // An EF Core test project that uses only the packages: a migrated template database, a fresh copy per test; or a snapshot restored per test.
            var efTests = Path.Combine(work, "eftests");
            Directory.CreateDirectory(efTests);
            await File.WriteAllTextAsync(Path.Combine(efTests, "eftests.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <IsPackable>false</IsPackable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ZeroPg.Testing.Xunit" Version="{version}" />
                    <PackageReference Include="Npgsql.EntityFrameworkCore.PostgreSQL" Version="{PackageVersion(repo, "Npgsql.EntityFrameworkCore.PostgreSQL")}" />
                    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{PackageVersion(repo, "Microsoft.NET.Test.Sdk")}" />
                    <PackageReference Include="xunit" Version="{PackageVersion(repo, "xunit")}" />
                    <PackageReference Include="xunit.runner.visualstudio" Version="{PackageVersion(repo, "xunit.runner.visualstudio")}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(efTests, "ShopTests.cs"), EfCoreTests);
            File.Copy(config, Path.Combine(efTests, "nuget.config"));
            await Run("dotnet", ["restore"], efTests);
            var clock = Stopwatch.StartNew();
            var efOutput = await RunHidden(repo, "dotnet test --no-restore 2>&1", efTests);
            Console.WriteLine($"EF Core test project from the packages: dotnet test took {clock.Elapsed.TotalSeconds:0.0} s (build included)");
            Assert.Contains("Passed!", efOutput);
            Assert.Contains("Passed:     4", efOutput);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Aspire from the packages (the AppHost package, a DistributedApplicationTestingBuilder test): in the Slow run, for the default
    /// run's CPU time (two projects built and an AppHost run); ZeroPg.Aspire.Tests runs the same hosting code from the source tree
    /// in the default run.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task An_aspire_app_host_from_the_packages_passes_a_testing_builder_test()
    {
        var packed = await PackedFeed.SharedAsync();
        await packed.AspireHostingAsync();
        var work = Directory.CreateTempSubdirectory("zeropg-aspire-").FullName;
        try
        {
            var config = await WriteNugetConfigAsync(work, packed.Feed);
            await AspireFromPackagesTests.RunAsync(RepoPaths.Root, work, config, packed.Version, PackageVersion, RunHidden, Run);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A nuget.config in <paramref name="work"/> with the packed feed and nuget.org (this machine's mirror of it).</summary>
    private static async Task<string> WriteNugetConfigAsync(string work, string feed)
    {
        var config = Path.Combine(work, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        return config;
    }

    /// <summary>A test class as an app writes it with ZeroPg.Testing and EF Core: migrations applied once to a template, a copy per test.</summary>
    private const string EfCoreTests = """
        using Microsoft.EntityFrameworkCore;
        using Microsoft.EntityFrameworkCore.Diagnostics;
        using Microsoft.EntityFrameworkCore.Infrastructure;
        using Microsoft.EntityFrameworkCore.Migrations;
        using Npgsql;
        using ZeroPg.Testing;
        using Xunit;

        public sealed class Order
        {
            public int Id { get; set; }
            public string Item { get; set; } = "";
        }

        public sealed class Shop(DbContextOptions<Shop> options) : DbContext(options)
        {
            public DbSet<Order> Orders => Set<Order>();

            public static Shop Open(string connectionString) => new(new DbContextOptionsBuilder<Shop>()
                .UseNpgsql(connectionString)
                .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning))
                .Options);
        }

        [DbContext(typeof(Shop))]
        [Migration("20260101000000_Initial")]
        public sealed class Initial : Migration
        {
            protected override void Up(MigrationBuilder b) => b.CreateTable("Orders",
                t => new { Id = t.Column<int>(nullable: false).Annotation("Npgsql:ValueGenerationStrategy", Npgsql.EntityFrameworkCore.PostgreSQL.Metadata.NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                           Item = t.Column<string>(nullable: false) },
                constraints: t => t.PrimaryKey("PK_Orders", x => x.Id));
        }

        public sealed class Db : ZeroPgFixture
        {
            public string Template { get; private set; } = "";

            protected override async Task OnStartedAsync()
            {
                var template = await CreateDatabaseAsync(name: "shop_template");
                await using (var shop = Shop.Open(template + ";Pooling=false"))
                    await shop.Database.MigrateAsync();
                Template = "shop_template";
            }
        }

        public sealed class ShopTests(Db db) : IClassFixture<Db>
        {
            [Fact]
            public async Task An_order_is_saved_in_a_fresh_database()
            {
                await using var shop = Shop.Open(await db.CreateDatabaseAsync(db.Template));
                Assert.Equal(0, await shop.Orders.CountAsync());
                shop.Orders.Add(new Order { Item = "first" });
                await shop.SaveChangesAsync();
                Assert.Equal(1, await shop.Orders.CountAsync());
            }

            [Fact]
            public async Task Another_test_starts_from_the_template_again()
            {
                await using var shop = Shop.Open(await db.CreateDatabaseAsync(db.Template));
                Assert.Equal(0, await shop.Orders.CountAsync());
                Assert.Contains("20260101000000_Initial", await shop.Database.GetAppliedMigrationsAsync());
            }
        }

        // Or one database, migrated once and snapshotted, restored before each test (pooled connections stay usable).
        public sealed class ResetDb : ZeroPgFixture
        {
            protected override async Task OnStartedAsync()
            {
                await using (var shop = Shop.Open(ConnectionString))
                    await shop.Database.MigrateAsync();
                await SnapshotAsync();
            }
        }

        public sealed class ResetTests(ResetDb db) : IClassFixture<ResetDb>, IAsyncLifetime
        {
            public Task InitializeAsync() => db.RestoreAsync();

            public Task DisposeAsync() => Task.CompletedTask;

            [Theory]
            [InlineData(1)]
            [InlineData(2)]
            public async Task Each_test_sees_only_its_own_orders(int count)
            {
                await using var shop = Shop.Open(db.ConnectionString);
                for (var i = 0; i < count; i++)
                    shop.Orders.Add(new Order { Item = $"order {i}" });
                await shop.SaveChangesAsync();
                Assert.Equal(count, await shop.Orders.CountAsync());
                Assert.Equal(count, await shop.Orders.MaxAsync(o => o.Id)); // the identity restarts too
            }
        }
        """;

    /// <summary>`zeropg serve -p 0` from the installed tool, source tree hidden; a query through it.</summary>
    private static async Task<string> QueryThroughTool(string repo, string zeropg, string work)
    {
        var start = HiddenStart(repo, $"exec '{zeropg}' serve -p 0", work);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var ready = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"the installed zeropg exited before it was ready: {await stderr}");
            var port = System.Text.Json.JsonDocument.Parse(ready).RootElement.GetProperty("port").GetInt32();
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Pooling=false;Timeout=30");
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select (6 * 7)::text", connection);
            return (string)(await command.ExecuteScalarAsync())!;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>A ReadyToRun image's CLI header points at its native code (the ManagedNativeHeader directory).</summary>
    private static bool IsReadyToRun(Stream assembly)
    {
        using var copy = new MemoryStream();
        assembly.CopyTo(copy);
        copy.Position = 0;
        using var reader = new System.Reflection.PortableExecutable.PEReader(copy);
        return reader.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    /// <summary>In the private mount namespace: the source tree empty, every node on PATH unusable (and checked to be), no $ZEROPG_NODE.</summary>
    private static string Hide(string repo)
        => $"mount -t tmpfs none '{repo}' && for n in $(which -a node); do mount --bind /dev/null \"$n\"; done && ! command -v node >/dev/null && unset ZEROPG_NODE";

    private static ProcessStartInfo HiddenStart(string repo, string script, string directory)
    {
        var start = new ProcessStartInfo("unshare") { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var argument in (string[])["-m", "sh", "-c", $"{Hide(repo)} && {script}"])
            start.ArgumentList.Add(argument);
        return start;
    }

    internal static async Task<string> RunHidden(string repo, string script, string directory)
    {
        var result = await ExternalTool.RunAsync("unshare", ["-m", "sh", "-c", $"cd '{directory}' && {Hide(repo)} && {script}"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"{script} failed ({result.ExitCode}): {result.All}");
        return result.Stdout;
    }

    private static Task Run(string program, string[] arguments, string directory) => Run(program, arguments, directory, environment: null);

    /// <summary>Runs a program to its end (at most 10 minutes), with these environment variables set; fails the test on a non-zero exit.</summary>
    internal static async Task Run(string program, string[] arguments, string directory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }

    private static string NpgsqlVersion(string repo)
        => NpgsqlPackageVersion().Match(File.ReadAllText(Path.Combine(repo, "Directory.Packages.props"))).Groups[1].Value;

    /// <summary>The version Directory.Packages.props pins for <paramref name="id"/>: the test project restores what the repo does.</summary>
    private static string PackageVersion(string repo, string id)
        => Regex.Match(File.ReadAllText(Path.Combine(repo, "Directory.Packages.props")), $"Include=\"{Regex.Escape(id)}\" Version=\"([^\"]+)\"").Groups[1].Value;

    [GeneratedRegex("Include=\"Npgsql\" Version=\"([^\"]+)\"")]
    private static partial Regex NpgsqlPackageVersion();
}
