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
