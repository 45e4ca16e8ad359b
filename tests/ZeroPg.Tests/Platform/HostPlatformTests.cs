using ZeroPg.Tests.Infrastructure;
using System.Diagnostics;
using ZeroPg.Platform;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Platform;

/// <summary>Each platform's choices, computed on Linux: which implementation, cancel endpoints by path length, shell quoting.</summary>
public sealed class HostPlatformTests
{
    [Fact]
    public void The_current_platform_is_this_os_s_implementation()
    {
        var expected = OperatingSystem.IsWindows() ? OsFamily.Windows : OperatingSystem.IsMacOS() ? OsFamily.MacOS : OsFamily.Linux;
        Assert.Equal(expected, HostPlatform.Current.Os);
        Assert.Same(HostPlatform.Current, HostPlatform.Current); // chosen once
        Assert.IsType<LinuxPlatform>(HostPlatform.For(OsFamily.Linux));
        Assert.IsType<MacPlatform>(HostPlatform.For(OsFamily.MacOS));
        Assert.IsType<WindowsPlatform>(HostPlatform.For(OsFamily.Windows));
    }

    [Theory]
    [InlineData("Linux", 107)]
    [InlineData("MacOS", 103)]
    public void A_unix_socket_path_is_used_while_it_fits_the_platform_s_sun_path(string os, int limit)
    {
        var platform = HostPlatform.For(Enum.Parse<OsFamily>(os));
        var name = "zeropg-cancel-12345-0123456789abcdef0123456789abcdef"; // Name(CancelSocket)'s length
        var fits = "/" + new string('t', limit - 1 - name.Length - 1 - ".sock".Length);
        var endpoint = Assert.IsType<UnixSocketCancelEndpoint>(platform.NewCancelEndpoint(fits, name));
        Assert.Equal(limit, System.Text.Encoding.UTF8.GetByteCount(endpoint.Path));
        Assert.IsType<LoopbackCancelEndpoint>(platform.NewCancelEndpoint(fits + "t", name));
        Assert.IsType<LoopbackCancelEndpoint>(platform.NewCancelEndpoint("/" + new string('t', 199), name));
    }

    [Fact]
    public void A_usual_macos_temp_folder_is_too_long_for_a_socket_there_but_not_on_linux()
    {
        const string macTemp = "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/"; // $TMPDIR's usual shape on macOS
        const string name = "zeropg-cancel-12345-0123456789abcdef0123456789abcdef";
        Assert.IsType<LoopbackCancelEndpoint>(HostPlatform.For(OsFamily.MacOS).NewCancelEndpoint(macTemp, name));
        Assert.IsType<UnixSocketCancelEndpoint>(HostPlatform.For(OsFamily.Linux).NewCancelEndpoint(macTemp, name));
    }

    [Fact]
    public void Windows_always_cancels_over_a_loopback_port_with_a_fresh_secret()
    {
        var windows = HostPlatform.For(OsFamily.Windows);
        var first = Assert.IsType<LoopbackCancelEndpoint>(windows.NewCancelEndpoint(@"C:\Users\me\AppData\Local\Temp\", "zeropg-cancel-1-a"));
        var second = Assert.IsType<LoopbackCancelEndpoint>(windows.NewCancelEndpoint(@"C:\Users\me\AppData\Local\Temp\", "zeropg-cancel-1-b"));
        Assert.Equal("tcp", first.HostAddress);
        Assert.Equal(64, first.Secret.Length);
        Assert.NotEqual(first.Secret, second.Secret);
    }

    [Theory]
    [InlineData("echo hi", "/d /s /c \"echo hi\"")]
    [InlineData("\"C:\\Program Files\\app.exe\" --url \"%DATABASE_URL%\"", "/d /s /c \"\"C:\\Program Files\\app.exe\" --url \"%DATABASE_URL%\"\"")]
    [InlineData("a && b | c", "/d /s /c \"a && b | c\"")]
    public void Windows_runs_the_command_line_through_cmd_exactly_as_typed(string line, string arguments)
    {
        // cmd /s /c strips the first and the last quote and runs what is between them as typed: .NET must not quote it again.
        var shell = HostPlatform.For(OsFamily.Windows).Shell(line);
        Assert.EndsWith("cmd.exe", shell.FileName, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(arguments, shell.RawArguments);
        Assert.Equal(arguments, shell.StartInfo().Arguments);
        Assert.Empty(shell.StartInfo().ArgumentList);
    }

    [Theory]
    [InlineData("Linux")]
    [InlineData("MacOS")]
    public void Unix_runs_the_command_line_through_posix_sh_as_one_argument(string os)
    {
        var shell = HostPlatform.For(Enum.Parse<OsFamily>(os)).Shell("echo \"$DATABASE_URL\" 'it''s' && exit 3");
        Assert.Equal("/bin/sh", shell.FileName);
        Assert.Equal(["-c", "echo \"$DATABASE_URL\" 'it''s' && exit 3"], shell.Arguments);
    }

    [Fact]
    public async Task The_shell_runs_a_command_with_quotes_and_returns_its_exit_code()
    {
        var start = HostPlatform.Current.Shell("printf '%s|' \"a b\" 'c\"d' && exit 7").StartInfo();
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal("a b|c\"d|", output);
        Assert.Equal(7, process.ExitCode);
    }

    [Fact]
    public void Syncing_a_directory_opens_it_without_an_architecture_s_flag()
    {
        // Regression: a hard-coded 0x10000 was O_DIRECTORY on x86-64 but O_DIRECT on arm64, where open() failed with EINVAL.
        using var directory = new TempDirectory();
        HostPlatform.Current.SyncDirectory(directory.Path);
        var missing = Path.Combine(directory.Path, "missing");
        Assert.Throws<IOException>(() => HostPlatform.Current.SyncDirectory(missing));
    }

    [Fact]
    public async Task A_stop_request_reaches_the_process_as_sigterm()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        Assert.True(HostPlatform.Current.RequestStop(sleeper.Id));
        await sleeper.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(128 + 15, sleeper.ExitCode); // .NET reports a signal's death as 128 + its number
        Assert.False(HostPlatform.Current.RequestStop(sleeper.Id));
    }

    [Fact]
    public void Linux_reads_a_process_s_command_line()
    {
        var arguments = HostPlatform.Current.CommandLine(Environment.ProcessId);
        Assert.NotNull(arguments);
        Assert.Contains(arguments, a => a.Contains("dotnet", StringComparison.Ordinal) || a.Contains("testhost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_platform_tells_a_live_process_from_a_gone_one()
    {
        Assert.True(HostPlatform.Current.ProcessExists(Environment.ProcessId));
        Assert.True(HostPlatform.Current.TellsEveryProcess);
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        Assert.True(HostPlatform.Current.ProcessExists(sleeper.Id));
        Assert.True(HostPlatform.For(OsFamily.MacOS).ProcessExists(sleeper.Id)); // kill(pid, 0), as on macOS
        sleeper.Kill();
        await sleeper.WaitForExitAsync(); // reaped: the pid is gone
        Assert.False(HostPlatform.Current.ProcessExists(sleeper.Id));
        Assert.False(HostPlatform.For(OsFamily.MacOS).ProcessExists(sleeper.Id));
        Assert.True(HostPlatform.For(OsFamily.MacOS).ProcessExists(1)); // init: another user's, seen as existing (EPERM)
    }

    [Fact]
    public void Linux_reads_its_limits_and_the_others_report_the_memory_the_runtime_sees()
    {
        Assert.NotNull(HostPlatform.Current.OpenFilesLimit());
        Assert.True(HostPlatform.Current.OpenDescriptorCount() > 3);
        Assert.Null(HostPlatform.For(OsFamily.Windows).OpenFilesLimit());
        var linux = HostPlatform.Current.Limits("/").Memory();
        Assert.NotNull(linux);
        var portable = HostPlatform.For(OsFamily.MacOS).Limits("/nonexistent").Memory();
        Assert.Equal("the memory the system reports", portable?.Source);
        Assert.True(portable?.Mb > 0);
        Assert.Null(HostPlatform.For(OsFamily.Windows).Limits("/").CpuQuota());
    }

    /// <summary>Issue 60: no file outside the platform implementations reads /proc, calls libc, or starts kill, sh or chown.</summary>
    [Fact]
    public void No_source_file_outside_the_platform_folder_reads_proc_calls_libc_or_starts_kill_sh_or_chown()
    {
        var src = Path.Combine(RepoPaths.Root, "src");
        var platform = Path.Combine(src, "ZeroPg", "Platform") + Path.DirectorySeparatorChar;
        string[] forbidden = ["\"/proc", "$\"/proc", "LibraryImport(\"libc", "DllImport(\"libc", "(\"kill\"", "(\"chown\"", "(\"/bin/sh\"", "(\"sh\"",
            "RuntimeInformation.IsOSPlatform"];
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.StartsWith(platform, StringComparison.Ordinal) || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                continue;
            var text = File.ReadAllText(file);
            found.AddRange(forbidden.Where(text.Contains).Select(f => $"{Path.GetRelativePath(src, file)}: {f}"));
        }
        Assert.Empty(found);
    }

    [Fact]
    public void Each_platform_names_the_node_folder_and_the_executables_of_its_runtime_identifier()
    {
        var x64 = System.Runtime.InteropServices.Architecture.X64;
        var arm64 = System.Runtime.InteropServices.Architecture.Arm64;
        Assert.Equal("linux-x64", HostPlatform.For(OsFamily.Linux).NodeRuntimeFolder(x64)); // no /etc/alpine-release here (Debian)
        Assert.Equal("linux-arm64", HostPlatform.For(OsFamily.Linux).NodeRuntimeFolder(arm64));
        Assert.Equal("osx-arm64", HostPlatform.For(OsFamily.MacOS).NodeRuntimeFolder(arm64));
        Assert.Equal("win-x64", HostPlatform.For(OsFamily.Windows).NodeRuntimeFolder(x64));
        Assert.Null(HostPlatform.For(OsFamily.Windows).NodeRuntimeFolder(System.Runtime.InteropServices.Architecture.X86));
        Assert.Equal(["node.exe", "node"], HostPlatform.For(OsFamily.Windows).ExecutableNames("node"));
        Assert.Equal(["node"], HostPlatform.For(OsFamily.MacOS).ExecutableNames("node"));
        Assert.True(HostPlatform.For(OsFamily.Linux).HasSharedEngineHost);
        Assert.False(HostPlatform.For(OsFamily.MacOS).HasSharedEngineHost);
        Assert.False(HostPlatform.For(OsFamily.Windows).HasSharedEngineHost);
    }
}
