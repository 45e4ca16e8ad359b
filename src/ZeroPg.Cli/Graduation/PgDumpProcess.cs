using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ZeroPg.Engine;

namespace ZeroPg.Cli.Graduation;

/// <summary>What pg_dump reports while it runs (from dump.mjs's stderr).</summary>
internal abstract record PgDumpEvent;

/// <summary>The data of a table starts; <see cref="BytesSoFar"/> of dump were written before it.</summary>
internal sealed record PgDumpTableStarted(string Table, long BytesSoFar) : PgDumpEvent;

internal sealed record PgDumpError(string Message) : PgDumpEvent;

/// <summary>
/// engine-host/dump.mjs as a child process: pg_dump 18 (WebAssembly) connected to a server. The dump
/// is its standard output; its events arrive on <see cref="Events"/>'s callback.
/// </summary>
internal sealed class PgDumpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _stderr;
    private readonly List<string> _errors = [];

    private PgDumpProcess(Process process, Action<PgDumpEvent> events)
    {
        _process = process;
        _stderr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                if (Parse(line) is not { } parsed)
                    continue;
                if (parsed is PgDumpError error)
                {
                    lock (_errors)
                        _errors.Add(error.Message);
                }
                events(parsed);
            }
        });
    }

    /// <summary>The dump, as pg_dump writes it.</summary>
    public Stream Output => _process.StandardOutput.BaseStream;

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
                return [.. _errors];
        }
    }

    public static PgDumpProcess Start(DatabaseEndpoint source, IEnumerable<string> arguments, Action<PgDumpEvent> events)
    {
        var script = Path.Combine(Path.GetDirectoryName(EngineHostLocator.Locate(null))!, "dump.mjs");
        if (!File.Exists(script))
            throw new GraduationException($"{script} is missing: the engine host folder is incomplete.");
        var start = new ProcessStartInfo(ZeroPg.Engine.NodeRuntime.Resolve(null))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(new JsonObject
        {
            ["connect"] = source.DumpConnect,
            ["user"] = source.Url.User,
            ["database"] = source.Url.Database,
            ["password"] = source.Url.Password,
            ["args"] = new JsonArray([.. arguments.Select(a => (JsonNode?)a)]),
        }.ToJsonString());
        var process = Process.Start(start) ?? throw new GraduationException("could not start node for pg_dump");
        return new PgDumpProcess(process, events);
    }

    private static PgDumpEvent? Parse(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            return root.GetProperty("event").GetString() switch
            {
                "table" => new PgDumpTableStarted(root.GetProperty("name").GetString()!, root.GetProperty("bytes").GetInt64()),
                "error" => new PgDumpError(root.GetProperty("message").GetString()!),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return new PgDumpError(line); // node itself failing (a stack trace, a missing module)
        }
    }

    /// <summary>Waits for pg_dump to finish; its exit code.</summary>
    public async Task<int> WaitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _stderr;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        await _stderr.ContinueWith(_ => { }, TaskScheduler.Default);
        _process.Dispose();
    }
}
