using System.Diagnostics;
using System.Text.Json;
using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>
/// A real S3-compatible server for the tests: s3rver (npm, pinned by tests/s3/package-lock.json) on
/// loopback, storing in a directory, so it can be stopped and started again on the same port with the
/// same contents (a bucket that is down for a while).
/// </summary>
public sealed class S3rverProcess : IAsyncDisposable
{
    public const string Bucket = "zeropg";
    public const string AccessKey = "S3RVER"; // s3rver's built-in account

    private Process? _process;

    private S3rverProcess(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public int Port { get; private set; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static async Task<S3rverProcess> StartAsync(string directory)
    {
        var server = new S3rverProcess(directory);
        await server.StartAsync(0);
        return server;
    }

    private async Task StartAsync(int port)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true, // the server stops when its stdin closes: it cannot outlive the test
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(RepoPaths.Root, "tests", "s3"),
        };
        start.ArgumentList.Add("server.mjs");
        start.ArgumentList.Add(Directory);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Bucket);
        _process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException("s3rver exited: " + await _process.StandardError.ReadToEndAsync());
        Port = JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
    }

    /// <summary>The bucket goes away (connections refused) until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public Task RestartAsync() => StartAsync(Port);

    public BackupOptions Options(string prefix, Action<BackupOptions>? configure = null)
    {
        var options = new BackupOptions
        {
            Url = $"s3://{Bucket}/{prefix}",
            S3Endpoint = Endpoint,
            S3ForcePathStyle = true,
            S3AccessKeyId = AccessKey,
            S3SecretAccessKey = AccessKey,
            LeaseTtl = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>ZeroPg's store on this server, under <paramref name="prefix"/>.</summary>
    internal ZeroPg.Backups.S3.S3BackupStore OpenStore(string prefix)
    {
        var options = Options(prefix);
        return new ZeroPg.Backups.S3.S3BackupStore(Bucket, prefix, options.Url, options);
    }

    /// <summary>The CLI flags for this server (credentials go in <see cref="Environment"/>).</summary>
    public string[] CliFlags => ["--s3-endpoint", Endpoint, "--s3-path-style"];

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = AccessKey,
    };

    public async ValueTask DisposeAsync() => await StopAsync();
}
