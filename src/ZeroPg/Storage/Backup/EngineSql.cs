using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Runs one housekeeping statement (pg_backup_start, pg_backup_stop) in the shared engine session
/// without disturbing the clients' state there: it goes through a statement and portal of its own
/// name (a simple Query would drop a client's unnamed statement), both closed again, and only reads
/// the engine; it may land inside a client's open transaction, which it does not change. A statement
/// that fails (e.g. 25P02 in a client's failed transaction) throws <see cref="EngineSqlException"/>.
/// </summary>
internal static class EngineSql
{
    private static long s_counter;

    /// <summary>The text values of the first row, or an exception.</summary>
    public static async Task<string?[]> QueryRowAsync(EngineProcess engine, string sql, TimeSpan timeout)
    {
        var name = Encoding.ASCII.GetBytes($"zeropg_backup_{Interlocked.Increment(ref s_counter)}");
        var batch = new Sessions.BatchBuffer();
        ParseMessage.Write(batch, name, Encoding.UTF8.GetBytes(sql), [0, 0]);
        BindMessage.WriteText(batch, name, name, []);
        ExecuteMessage.Write(batch, name, 0);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Portal, name);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Statement, name);
        EmptyFrontendMessage.Write(batch, FrontendCode.Sync);
        var call = new CollectingCall();
        await engine.SubmitAsync(call, batch.Frame(HostRequestKind.Batch));
        await call.Completion.WaitAsync(timeout);
        var (row, error) = call.Parse();
        if (error is not null)
        {
            // The Close messages were skipped with the rest of the batch: close the statement now.
            var cleanup = new Sessions.BatchBuffer();
            TargetedMessage.Write(cleanup, FrontendCode.Close, TargetedMessage.Statement, name);
            EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
            var discard = new DiscardCall();
            await engine.SubmitAsync(discard, cleanup.Frame(HostRequestKind.Batch));
            await discard.Completion.WaitAsync(timeout);
            throw error;
        }
        return row ?? throw new EngineSqlException("", $"{sql} returned no row");
    }

    private sealed class CollectingCall : EngineCall
    {
        private readonly ArrayBufferWriter<byte> _reply = new();

        public override ValueTask OnReplyDataAsync(ReadOnlySequence<byte> data)
        {
            foreach (var segment in data)
                _reply.Write(segment.Span);
            return ValueTask.CompletedTask;
        }

        public (string?[]? Row, EngineSqlException? Error) Parse()
        {
            var bytes = _reply.WrittenSpan;
            string?[]? row = null;
            while (bytes.Length >= 5)
            {
                var code = bytes[0];
                var length = BinaryPrimitives.ReadInt32BigEndian(bytes[1..]);
                var body = bytes.Slice(5, length - 4);
                if (code == (byte)'E')
                {
                    return (row, new EngineSqlException(
                        ErrorResponse.ReadSqlState(body) ?? "",
                        ErrorResponse.ReadField(body, (byte)'M') ?? "error"));
                }
                if (code == (byte)'D' && row is null)
                    row = ReadRow(body);
                bytes = bytes[(1 + length)..];
            }
            return (row, null);
        }

        private static string?[] ReadRow(ReadOnlySpan<byte> body)
        {
            var count = BinaryPrimitives.ReadInt16BigEndian(body);
            var values = new string?[count];
            var position = 2;
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(body[position..]);
                position += 4;
                if (length >= 0)
                {
                    values[i] = Encoding.UTF8.GetString(body.Slice(position, length));
                    position += length;
                }
            }
            return values;
        }
    }
}

internal sealed class EngineSqlException(string sqlState, string message) : Exception(sqlState.Length > 0 ? $"{message} ({sqlState})" : message)
{
    public string SqlState { get; } = sqlState;
}
