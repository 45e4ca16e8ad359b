using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.RegularExpressions;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions.Copy;

/// <summary>
/// Loads a COPY's data, received whole (<see cref="CopySpool"/>), into the engine once the client's CopyDone came:
/// one COPY per piece (<see cref="CopyRowCutter"/>), each Query + its CopyData + CopyDone in ONE engine call as PGlite
/// requires, all in one transaction (BEGIN and COMMIT of ZeroPg's own around them outside the client's block): all or
/// nothing. The client sees one COPY: the pieces' row counts added up, or the first error with its line counted from
/// the start of the whole COPY. The engine host holds one piece at a time; ZeroPg sends it in parts of 1 MB. On memory://
/// a piece is followed by a checkpoint when the WAL is due for one (<see cref="Storage.MemoryWalCheckpoints"/>).
/// Thread: the session, holding the engine.
/// </summary>
internal sealed partial class CopyLoad(SessionServices services, ProtocolState state, EngineLink link, EngineStateRestore restore, PipeWriter output)
{
    private const int PartBytes = 1 << 20;
    private static readonly byte[] BinaryTrailer = [0xFF, 0xFF];

    /// <summary>Runs the COPY <paramref name="sql"/> over the data and answers the client (ReadyForQuery too unless <paramref name="extended"/>).</summary>
    /// <remarks>
    /// Without a <paramref name="cutter"/> (a COPY ZeroPg cannot cut, or followed by more statements) the data goes whole in
    /// one call, as the client sent it, and the engine's reply is the client's.
    /// </remarks>
    public async Task RunAsync(string sql, CopySpool spool, CopyRowCutter? cutter, bool extended)
    {
        var whole = cutter is null;
        var wrap = !whole && state.Transaction == TransactionState.Idle;
        var batch = new EngineBatch();
        restore.WritePreamble(batch);
        if (wrap)
            batch.AddPreambleQuery("BEGIN");
        var pieces = cutter?.Pieces(spool.Length) ?? [new CopyPiece(0, spool.Length, 0, First: true, Last: true)];
        var notices = new List<byte[]>();
        byte[]? error = null;
        long rows = 0;
        var chunk = ArrayPool<byte>.Shared.Rent(PartBytes);
        var checkpoints = !whole && Storage.MemoryWalCheckpoints.Apply(services);
        try
        {
            foreach (var piece in pieces)
            {
                QueryMessage.Write(batch.Buffer, sql);
                await WriteDataAsync(batch, spool, piece, cutter, chunk);
                EmptyFrontendMessage.Write(batch.Buffer, FrontendCode.CopyDone);
                if (checkpoints)
                    QueryMessage.Write(batch.Buffer, Storage.MemoryWalCheckpoints.Sql); // its reply (DO) comes with the piece's; the piece's error first
                await link.RunCapturedAsync(batch, dropCopyInResponse: true); // ZeroPg answered the client's CopyInResponse itself
                batch.Clear();
                if (whole)
                {
                    notices.AddRange(link.Reply.Captured.Where(m => m[0] != (byte)BackendCode.ReadyForQuery));
                    break;
                }
                error = Read(link.Reply.Captured, notices, ref rows);
                if (error is not null)
                {
                    error = WithWholeCopyLine(error, piece, cutter);
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            services.Statements.SetUnnamed(null); // a simple Query drops the engine's unnamed statement: the client's is parsed again
        }
        if (wrap)
        {
            QueryMessage.Write(batch.Buffer, error is null ? "COMMIT" : "ROLLBACK");
            await link.RunCapturedAsync(batch, dropCopyInResponse: true); // ZeroPg answered the client's CopyInResponse itself
            error ??= Read(link.Reply.Captured, notices, ref rows); // a deferred constraint fails at COMMIT
        }
        foreach (var notice in notices)
            output.Write(notice);
        if (error is not null)
            output.Write(error);
        else if (!whole)
            CommandComplete.Write(output, "COPY " + rows.ToString(CultureInfo.InvariantCulture));
        if (!extended)
            ReadyForQuery.Write(output, state.Status);
        await output.FlushAsync();
    }

    /// <summary>
    /// Runs the COPY with no data but a CopyFail, so that the engine aborts the client's transaction block as Postgres
    /// would (the client failed the COPY, or it went over a limit); the engine's error is not shown to the client.
    /// </summary>
    public async Task AbortInBlockAsync(string sql, string reason)
    {
        var batch = new EngineBatch();
        restore.WritePreamble(batch);
        QueryMessage.Write(batch.Buffer, sql);
        CopyFailMessage.Write(batch.Buffer, reason);
        await link.RunCapturedAsync(batch, dropCopyInResponse: true); // ZeroPg answered the client's CopyInResponse itself
        services.Statements.SetUnnamed(null);
    }

    /// <summary>
    /// The piece's data as CopyData messages: the header again for a piece after the first, the binary trailer for one
    /// before the last. All but the last MB go ahead as parts of the engine call, so no more than that is held here.
    /// </summary>
    private async Task WriteDataAsync(EngineBatch batch, CopySpool spool, CopyPiece piece, CopyRowCutter? cutter, byte[] chunk)
    {
        if (!piece.First && cutter?.Prefix is { } prefix)
            CopyDataMessage.Write(batch.Buffer, prefix);
        var end = piece.Start + piece.Length;
        for (var offset = piece.Start; offset < end;)
        {
            var read = spool.Read(offset, chunk.AsSpan(0, (int)Math.Min(chunk.Length, end - offset)));
            if (read == 0)
                throw new InvalidOperationException("COPY data ended before its last piece");
            offset += read;
            CopyDataMessage.Write(batch.Buffer, chunk.AsSpan(0, read));
            if (batch.Buffer.MessageBytes >= PartBytes && offset < end)
            {
                // Whole messages only: the host prepends parts to the batch that follows them, which comes right after.
                await link.SendPartAsync(batch.Buffer.Frame(HostRequestKind.Partial));
                batch.Buffer.Clear();
            }
        }
        if (!piece.Last && cutter?.Kind == CopyDataKind.Binary)
            CopyDataMessage.Write(batch.Buffer, BinaryTrailer);
    }

    /// <summary>Takes one piece's reply: its row count, its notices; returns its error (whole message) if it failed.</summary>
    private static byte[]? Read(List<byte[]> captured, List<byte[]> notices, ref long rows)
    {
        byte[]? error = null;
        foreach (var message in captured)
        {
            switch ((BackendCode)message[0])
            {
                case BackendCode.ErrorResponse:
                    error ??= message;
                    break;
                case BackendCode.NoticeResponse:
                    notices.Add(message);
                    break;
                case BackendCode.CommandComplete:
                    var tag = CommandComplete.ReadTag(message.AsSpan(MessageFramer.HeaderLength));
                    if (tag.StartsWith("COPY "u8) && long.TryParse(tag[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                        rows += count;
                    break;
            }
        }
        return error;
    }

    /// <summary>The error of a piece with the line of its CONTEXT ("COPY t, line 12") counted from the start of the whole COPY.</summary>
    private static byte[] WithWholeCopyLine(byte[] error, CopyPiece piece, CopyRowCutter? cutter)
    {
        if (piece.First || cutter is null)
            return error;
        var shift = piece.LinesBefore - cutter.PrefixLines;
        var edited = new ArrayBufferWriter<byte>(error.Length + 16);
        ErrorResponse.WriteWithFieldEdited(edited, error, (byte)'W', context => CopyLine().Replace(context, match =>
            match.Groups[1].Value + (long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) + shift).ToString(CultureInfo.InvariantCulture)));
        return edited.WrittenSpan.ToArray();
    }

    [GeneratedRegex(@"(COPY [^\n]*?, line )(\d+)")]
    private static partial Regex CopyLine();
}
