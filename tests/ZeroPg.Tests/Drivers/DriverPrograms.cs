using ZeroPg.Tests.Infrastructure;
using static ZeroPg.Tests.Drivers.DriverProgram;

namespace ZeroPg.Tests.Drivers;

/// <summary>The driver programs under tests/drivers/ (and tests/node/), with the Debian/npm packages they need.</summary>
public static class DriverPrograms
{
    /// <summary>Go pgx v4 from Debian, built in GOPATH mode against /usr/share/gocode (no module download).</summary>
    public static DriverProgram GoPgx { get; } = new("go-pgx", async () =>
    {
        var go = Require("/usr/bin/go", "golang-go");
        Require("/usr/share/gocode/src/github.com/jackc/pgx/v4", "golang-github-jackc-pgx-v4-dev");
        var environment = new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = "/usr/share/gocode",
            ["GOFLAGS"] = "",
            ["GOTOOLCHAIN"] = "local",
            ["GOCACHE"] = Path.Combine(BuildCache.Root, "go-build"),
        };
        var key = await VersionAsync(go, "version") + await PackageVersionAsync("golang-github-jackc-pgx-v4-dev");
        var output = await BuildCache.GetOrBuildAsync("go-pgx", DriverSource("go"), key, (source, output) =>
            BuildStepAsync("go build", go, ["build", "-o", Path.Combine(output, "pgxdriver"), "main.go"], environment, source));
        return new Invocation(Path.Combine(output, "pgxdriver"), []);
    });

    /// <summary>Rust tokio-postgres from Debian's packaged crates (/usr/share/cargo/registry as the only registry).</summary>
    public static DriverProgram RustTokioPostgres { get; } = new("rust-tokio-postgres", async () =>
    {
        var cargo = FindOnPath("cargo", "cargo");
        const string registry = "/usr/share/cargo/registry";
        if (!Directory.Exists(registry) || !Directory.EnumerateDirectories(registry, "tokio-postgres-*").Any())
            Require(Path.Combine(registry, "tokio-postgres-*"), "librust-tokio-postgres-dev");
        var key = await VersionAsync(cargo, "--version") + await PackageVersionAsync("librust-tokio-postgres-dev");
        var output = await BuildCache.GetOrBuildAsync("rust-tokio-postgres", DriverSource("rust"), key, async (source, output) =>
        {
            var environment = new Dictionary<string, string> { ["CARGO_TARGET_DIR"] = Path.Combine(source, "target") };
            await BuildStepAsync("cargo build", cargo, ["build", "--offline", "--quiet"], environment, source);
            File.Copy(Path.Combine(source, "target", "debug", "tokio-postgres-driver"), Path.Combine(output, "tokio-postgres-driver"));
            Directory.Delete(Path.Combine(source, "target"), recursive: true);
        });
        return new Invocation(Path.Combine(output, "tokio-postgres-driver"), []);
    });

    /// <summary>PHP PDO pgsql with native prepares (Debian php-cli, php-pgsql).</summary>
    public static DriverProgram PhpPdo { get; } = new("php-pdo", async () =>
    {
        var php = Require("/usr/bin/php", "php-cli php-pgsql");
        await RequireWorksAsync(php, ["-r", "exit(extension_loaded('pdo_pgsql') ? 0 : 1);"], "php-pgsql");
        return new Invocation(php, [DriverSource("php", "pdo.php")]);
    });

    /// <summary>Ruby pg (Debian ruby-pg).</summary>
    public static DriverProgram RubyPg { get; } = new("ruby-pg", async () =>
    {
        var ruby = Require("/usr/bin/ruby", "ruby ruby-pg");
        await RequireWorksAsync(ruby, ["-e", "require 'pg'"], "ruby-pg");
        return new Invocation(ruby, [DriverSource("ruby", "pg_driver.rb")]);
    });

    /// <summary>Perl DBI with DBD::Pg (Debian libdbd-pg-perl).</summary>
    public static DriverProgram PerlDbdPg { get; } = new("perl-dbd-pg", async () =>
    {
        var perl = Require("/usr/bin/perl", "perl libdbd-pg-perl");
        await RequireWorksAsync(perl, ["-MDBD::Pg", "-e", "1"], "libdbd-pg-perl");
        return new Invocation(perl, [DriverSource("perl", "dbdpg.pl")]);
    });

    /// <summary>Python asyncpg (Debian python3-asyncpg), run by Debian's python3 (its packages are in dist-packages).</summary>
    public static DriverProgram PythonAsyncpg { get; } = new("python-asyncpg", async () =>
    {
        var python = Require("/usr/bin/python3", "python3 python3-asyncpg");
        await RequireWorksAsync(python, ["-c", "import asyncpg"], "python3-asyncpg");
        return new Invocation(python, [DriverSource("python", "asyncpg_driver.py")]);
    });

    /// <summary>Python psycopg 3 (Debian python3-psycopg), run by Debian's python3.</summary>
    public static DriverProgram PythonPsycopg { get; } = new("python-psycopg", async () =>
    {
        var python = Require("/usr/bin/python3", "python3 python3-psycopg");
        await RequireWorksAsync(python, ["-c", "import psycopg"], "python3-psycopg");
        return new Invocation(python, [DriverSource("python", "psycopg_driver.py")]);
    });

    /// <summary>Java pgjdbc (Debian libpostgresql-jdbc-java), compiled once per source with the machine's javac.</summary>
    public static DriverProgram JavaPgjdbc { get; } = new("java-pgjdbc", async () =>
    {
        var javac = FindOnPath("javac", "default-jdk-headless");
        var java = FindOnPath("java", "default-jdk-headless");
        var jar = Require("/usr/share/java/postgresql.jar", "libpostgresql-jdbc-java");
        var key = await VersionAsync(javac, "-version") + await PackageVersionAsync("libpostgresql-jdbc-java");
        var output = await BuildCache.GetOrBuildAsync("java-pgjdbc", DriverSource("java"), key, (source, output) =>
            BuildStepAsync("javac", javac, ["-encoding", "UTF-8", "-cp", jar, "-d", output, "PgjdbcDriver.java", "PgOutputText.java"], null, source));
        return new Invocation(java, ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", $"{output}:{jar}", "PgjdbcDriver"]);
    });

    /// <summary>postgres.js (npm postgres, pinned by tests/node/package-lock.json and installed by the build's npm ci).</summary>
    public static DriverProgram PostgresJs { get; } = new("postgres.js", () =>
    {
        var node = FindOnPath("node", "nodejs npm");
        Require(Path.Combine(RepoPaths.NodeTests, "node_modules", "postgres"), "nodejs npm` and `npm ci` in tests/node (the test project's build runs it)");
        return Task.FromResult(new Invocation(node, [NodeTests("postgresjs.mjs")]));
    });

    /// <summary>Fails with the package to install when a check of the toolchain (a module import) fails.</summary>
    private static async Task RequireWorksAsync(string program, string[] arguments, string install)
    {
        var result = await DriverProcess.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} failed: run `apt-get install -y {install}` (.ci/run installs the drivers' packages).\n{result.All}");
    }

    /// <summary>A program on PATH (rustup's ~/.cargo/bin too), or how to install it.</summary>
    public static string FindOnPath(string program, string install)
    {
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(Path.Combine(home, ".cargo", "bin")))
        {
            var candidate = Path.Combine(directory, program);
            if (directory.Length > 0 && File.Exists(candidate))
                return candidate;
        }
        return Require(program, install);
    }

    private static async Task<string> PackageVersionAsync(string package) =>
        await VersionAsync("dpkg-query", "-W", "-f=${Version}", package);

    internal static string NodeTests(string script) => Path.Combine(RepoPaths.NodeTests, script);
}
