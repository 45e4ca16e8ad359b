using System.Diagnostics;
using Microsoft.ClearScript;
using Microsoft.ClearScript.JavaScript;
using Microsoft.ClearScript.V8;

namespace ZeroPg.Bench.InProcess;

/// <summary>
/// One PGlite engine in a V8 isolate of this process (ClearScript). A batch is copied into a JavaScript ArrayBuffer, run with
/// one call, and its reply copied out; calls are serialized (one Postgres session, as in the engine host).
/// </summary>
internal sealed class PgliteInV8
{
    private readonly Lock _lock = new();
    private readonly ScriptObject _runBatch;
    private readonly nint _requests, _replies; // the two ArrayBuffers' backing stores
    private const int RequestsSize = 1 << 20; // engine.mjs makes Requests this size (and Replies 16 MB)

    private PgliteInV8(V8ScriptEngine v8)
    {
        _runBatch = (ScriptObject)v8.Script.runBatch;
        _requests = BackingStore((IArrayBuffer)v8.Script.Requests);
        _replies = BackingStore((IArrayBuffer)v8.Script.Replies);
    }

    public static async Task<(PgliteInV8 Engine, string Version)> CreateAsync(string pgliteDist)
    {
        var v8 = new V8ScriptEngine(V8ScriptEngineFlags.EnableTaskPromiseConversion | V8ScriptEngineFlags.EnableDynamicModuleImports);
        v8.DocumentSettings.AccessFlags = DocumentAccessFlags.EnableFileLoading | DocumentAccessFlags.AllowCategoryMismatch;
        v8.AddHostObject("host", new ScriptHost());
        var here = AppContext.BaseDirectory;
        v8.Execute(File.ReadAllText(Path.Combine(here, "web-globals.js")));
        var module = Path.Combine(here, "engine.mjs");
        v8.Execute(new DocumentInfo(new Uri(module)) { Category = ModuleCategory.Standard }, File.ReadAllText(module));
        var create = (ScriptObject)v8.Script.createEngine;
        var distUrl = new Uri(Path.GetFullPath(pgliteDist) + "/").AbsoluteUri;
        var version = await (Task<object>)create.Invoke(false, distUrl, Bytes(v8, Path.Combine(pgliteDist, "pglite.wasm")),
            Bytes(v8, Path.Combine(pgliteDist, "initdb.wasm")), Bytes(v8, Path.Combine(pgliteDist, "pglite.data")));
        return (new PgliteInV8(v8), (string)version);
    }

    /// <summary>Runs one batch (whole protocol messages ending with Sync or a Query) and copies its reply into <paramref name="reply"/>.</summary>
    public int Run(ReadOnlySpan<byte> batch, ref byte[] reply)
    {
        lock (_lock)
        {
            unsafe
            {
                batch.CopyTo(new Span<byte>((byte*)_requests, RequestsSize));
                var length = (int)_runBatch.Invoke(false, batch.Length);
                if (reply.Length < length)
                    reply = new byte[length * 2];
                new ReadOnlySpan<byte>((byte*)_replies, length).CopyTo(reply);
                return length;
            }
        }
    }

    private static IArrayBuffer Bytes(V8ScriptEngine v8, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var buffer = (IArrayBuffer)v8.Evaluate($"new ArrayBuffer({bytes.Length})");
        buffer.WriteBytes(bytes, 0, (ulong)bytes.Length, 0);
        return buffer;
    }

    // V8 does not move an ArrayBuffer's backing store; these two live as globals for the isolate's life.
    private static nint BackingStore(IArrayBuffer buffer) => buffer.InvokeWithDirectAccess(pointer => pointer);
}

/// <summary>The script's `host`: its clock and its log. Public, as ClearScript exposes only public types' members.</summary>
public sealed class ScriptHost
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    public double Now() => Clock.Elapsed.TotalMilliseconds;
    public void Log(string line) => Console.Error.WriteLine(line);
}
