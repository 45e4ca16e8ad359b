using System.Buffers.Binary;
using System.Text;
using ZeroPg.Replication.PgOutput;

namespace ZeroPg.Replication.Walsender;

/// <summary>
/// Protocol 2+ streaming of a large transaction, for a consumer that asked for it (<see cref="PgOutputOptions.Streaming"/>).
/// Postgres streams a transaction once its decoded changes reach <c>logical_decoding_work_mem</c>: a block (Stream Start,
/// the changes so far, Stream Stop) each time the limit is reached while decoding, the rest at commit, then Stream Commit
/// instead of Begin/Commit. ZeroPg only reads a transaction once it has committed, so it makes the same decision on the
/// whole transaction: one that reaches the limit is re-wrapped from the frames <see cref="TransactionEncoder"/> made
/// (encoded with <c>streamed</c>, so each relation is described again within it, as pgoutput does per streamed xid).
/// Inside the blocks Relation, Type, change and transactional message frames carry the xid right after their type byte
/// (proto.c's <c>logicalrep_write_*</c> with a valid xid). Non-transactional messages stay ahead, outside the blocks.
/// Sizes are counted as Slots/SlotDecoding counts them, so both encoders cut the same blocks.
/// </summary>
internal sealed class StreamedTransaction(long workMemBytes)
{
    /// <summary>What a change costs beyond its row texts: roughly the reorder buffer's bookkeeping per change (PG 15 streams
    /// ~430 single-row inserts of 30 bytes per 64kB block).</summary>
    private const int ChangeOverhead = 100;

    /// <summary>Postgres's default logical_decoding_work_mem, 64MB.</summary>
    public const long DefaultWorkMemBytes = 64L * 1024 * 1024;

    public bool Applies(IReadOnlyList<CapturedChange> tx) => tx.Where(c => c.Op != 'm').Sum(Size) >= workMemBytes;

    /// <summary>A change's decoded size; the same sum as SlotDecoding's.</summary>
    private static long Size(CapturedChange change) => ChangeOverhead + Bytes(change.NewRow) + Bytes(change.OldRow) + Bytes(change.Prefix)
        + (change.Content?.Length ?? 0);

    /// <summary>The frames of one transaction (loose messages, Begin ... Commit) in the streamed form.</summary>
    public List<StreamFrame> Wrap(IReadOnlyList<StreamFrame> frames, IReadOnlyList<CapturedChange> tx)
    {
        var cuts = BlockEnds(tx);
        var wrapped = new List<StreamFrame>(frames.Count + 2 * cuts.Count + 4);
        var pending = new List<StreamFrame>(); // Type/Relation frames (no LSN of their own) go with the change after them
        var xid = (uint)tx[0].Xid; // as Begin carries it (TransactionEncoder)
        var nextCut = 0;
        var blocks = 0;
        var inBlock = false;
        var lastLsn = Lsn.Invalid;
        foreach (var frame in frames)
        {
            switch ((char)frame.Payload[0])
            {
                case 'B':
                    continue;
                case 'C':
                    if (inBlock)
                        wrapped.Add(new(lastLsn, StreamStopMessage.Instance.Encode()));
                    wrapped.Add(new(frame.Lsn, new StreamCommitMessage(xid, TransactionEncoder.CommitLsn(tx), TransactionEncoder.EndLsn(tx), tx[^1].Time).Encode()));
                    return wrapped;
                case 'M' when frame.Payload[1] == 0:
                    wrapped.Add(frame);
                    continue;
            }
            if (frame.Lsn == Lsn.Invalid)
            {
                pending.Add(frame);
                continue;
            }
            while (nextCut < cuts.Count && cuts[nextCut] < frame.Lsn)
            {
                nextCut++;
                if (inBlock)
                    wrapped.Add(new(lastLsn, StreamStopMessage.Instance.Encode()));
                inBlock = false;
            }
            if (!inBlock)
            {
                wrapped.Add(new(frame.Lsn, new StreamStartMessage(xid, FirstSegment: blocks++ == 0).Encode()));
                inBlock = true;
            }
            foreach (var described in pending)
                wrapped.Add(new(described.Lsn, WithXid(described.Payload, xid)));
            pending.Clear();
            wrapped.Add(new(frame.Lsn, WithXid(frame.Payload, xid)));
            lastLsn = frame.Lsn;
        }
        return wrapped; // nothing published: no Begin, no Commit, nothing to stream
    }

    /// <summary>The LSNs of the changes after which a block ends: each time the running size reaches the limit.</summary>
    private List<Lsn> BlockEnds(IReadOnlyList<CapturedChange> tx)
    {
        var ends = new List<Lsn>();
        long running = 0;
        foreach (var change in tx)
        {
            if (change.Op == 'm')
                continue;
            running += Size(change);
            if (running < workMemBytes)
                continue;
            ends.Add(change.Lsn);
            running = 0;
        }
        return ends;
    }

    /// <summary>The message with the streamed xid after its type byte, where every message inside a block carries it.</summary>
    private static byte[] WithXid(byte[] payload, uint xid)
    {
        var result = new byte[payload.Length + 4];
        result[0] = payload[0];
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(1), xid);
        payload.AsSpan(1).CopyTo(result.AsSpan(5));
        return result;
    }

    private static int Bytes(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);
}
