using System.Buffers.Binary;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// Between one client's reply and the next client's request the engine would sit idle for a thread
/// hop or two. A unit that is certain to leave the engine session as it found it (see
/// <see cref="PipelineSafety"/>) gives the engine up as soon as it is written to the host, so the next
/// client's unit is already queued there when the engine finishes; replies come back in order.
/// </summary>
internal sealed partial class ClientSession
{
    private bool CanPipeline(ReadOnlySpan<byte> messages, TransactionStatus before)
    {
        if (before != TransactionStatus.Idle || _engineExtendedOpen || _extendedOpenAtUnitEnd || _copy is not null
            || _deferredBegin is not null || _settingsDirty || _tempDirty || _cleaningUp)
            return false;
        if (_services.Scheduler.QueueLength == 0)
            return false; // nobody to hand the engine to: keeping it leaves the unit cancellable by an engine restart

        if (messages.Length < 6 || messages[0] != FrontendCode.Query
            || 1 + BinaryPrimitives.ReadInt32BigEndian(messages[1..]) != messages.Length)
            return false;
        return PipelineSafety.IsSafe(QueryMessage.ReadSql(messages[5..]));
    }
}
