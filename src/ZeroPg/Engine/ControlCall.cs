using System.Buffers;
using System.Text.Json;

namespace ZeroPg.Engine;

/// <summary>A control request to the engine host (<see cref="EngineProcess.ControlAsync"/>): its reply is one JSON value.</summary>
internal sealed class ControlCall : EngineCall
{
    public JsonElement Answer { get; private set; }

    public override ValueTask OnReplyEndAsync(ReadOnlySequence<byte> payload)
    {
        using var document = JsonDocument.Parse(payload);
        Answer = document.RootElement.Clone();
        return ValueTask.CompletedTask;
    }
}
