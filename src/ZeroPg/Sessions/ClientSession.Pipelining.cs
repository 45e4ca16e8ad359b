using System.Buffers.Binary;
using System.Text.RegularExpressions;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// Between one client's reply and the next client's request the engine would sit idle for a thread
/// hop or two. A unit that is certain to leave the engine session as it found it (see
/// <see cref="PipelineSafety"/>) gives the engine up as soon as it is written to the host, so the next
/// client's unit is already queued there when the engine finishes; replies come back in order.
/// A plain COMMIT or ROLLBACK qualifies too: whatever its outcome, the transaction block is over.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>COMMIT / END / ROLLBACK / ABORT without AND CHAIN or TO SAVEPOINT, as a whole simple Query.</summary>
    [GeneratedRegex(@"^\s*(COMMIT|END|ROLLBACK|ABORT)(\s+(WORK|TRANSACTION))?\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PlainTransactionEnd();

    private bool CanPipeline(ReadOnlySpan<byte> messages, TransactionStatus before)
    {
        if (_engineExtendedOpen || _extendedOpenAtUnitEnd || _copy is not null
            || _deferredBegin is not null || _settingsDirty || _tempDirty || _cleaningUp)
            return false;
        if (_services.Scheduler.QueueLength == 0)
            return false; // nobody to hand the engine to: keeping it leaves the unit cancellable by an engine restart
        if (messages.Length < 6 || messages[0] != FrontendCode.Query
            || 1 + BinaryPrimitives.ReadInt32BigEndian(messages[1..]) != messages.Length)
            return false;
        var sql = QueryMessage.ReadSql(messages[5..]);
        return before == TransactionStatus.Idle
            ? PipelineSafety.IsSafe(sql)
            : !_usedAdvisoryLocks && PlainTransactionEnd().IsMatch(sql); // a rollback may free advisory locks: waiters are told after the reply
    }
}
