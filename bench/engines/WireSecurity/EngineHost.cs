using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace WireSecurity;

/// <summary>The real engine host (engine-host/host.mjs) over its stdio frames, one batch at a time.</summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _in;
    private readonly Stream _out;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private EngineHost(Process process)
    {
        _process = process;
        _in = process.StandardInput.BaseStream;
        _out = process.StandardOutput.BaseStream;
    }

    /// <summary>The engine's own startup reply (AuthenticationOk, ParameterStatus..., BackendKeyData, ReadyForQuery).</summary>
    public byte[] StartupReply { get; private set; } = [];

    public static async Task<EngineHost> StartAsync(string hostScript, string? loadDataDir)
    {
        var options = JsonSerializer.Serialize(new { loadDataDir });
        var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(hostScript);
        info.ArgumentList.Add(options);
        var engine = new EngineHost(Process.Start(info)!);
        var (kind, payload) = await engine.ReadFrameAsync();
        if (kind != 'R')
            throw new InvalidOperationException($"engine failed: {Encoding.UTF8.GetString(payload)}");
        using var ready = JsonDocument.Parse(payload);
        engine.StartupReply = Convert.FromBase64String(ready.RootElement.GetProperty("startup").GetString()!);
        return engine;
    }

    /// <summary>Runs whole frontend messages as one batch; returns the engine's reply bytes.</summary>
    public async Task<byte[]> RunAsync(ReadOnlyMemory<byte> messages)
    {
        await _gate.WaitAsync();
        try
        {
            var header = new byte[5];
            header[0] = (byte)'B';
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)messages.Length);
            await _in.WriteAsync(header);
            await _in.WriteAsync(messages);
            await _in.FlushAsync();
            var reply = new MemoryStream();
            while (true)
            {
                var (kind, payload) = await ReadFrameAsync();
                if (kind == 'Z')
                    return reply.ToArray();
                if (kind != 'D')
                    throw new InvalidOperationException($"engine frame {kind}: {Encoding.UTF8.GetString(payload)}");
                reply.Write(payload);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A simple Query; returns the first column of each DataRow, or throws with the ErrorResponse text.</summary>
    public async Task<List<string?>> QueryColumnAsync(string sql)
    {
        var reply = await RunAsync(Wire.Query(sql));
        var values = new List<string?>();
        foreach (var (type, body) in Wire.Messages(reply))
        {
            if (type == 'E')
                throw new InvalidOperationException(Wire.ErrorText(body));
            if (type == 'D')
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(2));
                values.Add(length < 0 ? null : Encoding.UTF8.GetString(body, 6, length));
            }
        }
        return values;
    }

    private async Task<(char Kind, byte[] Payload)> ReadFrameAsync()
    {
        var header = new byte[5];
        await _out.ReadExactlyAsync(header);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await _out.ReadExactlyAsync(payload);
        return ((char)header[0], payload);
    }

    public async ValueTask DisposeAsync()
    {
        _in.Close();
        await _process.WaitForExitAsync();
    }
}
