using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// The client's output. For a client in UTF8 (or SQL_ASCII) it is the connection's own writer and adds nothing. For a
/// client in another <see cref="ClientEncoding"/> it holds what is written until a flush, cuts it into messages and
/// writes each with its text in the client's encoding: RowDescription names, text columns of DataRows, error and notice
/// fields, notifications, ParameterStatus values, COPY TO STDOUT text. Everything the client gets passes here, ZeroPg's
/// own answers included, so nothing reaches it in UTF8 by mistake. A DataRow value the client's encoding cannot hold
/// ends that statement's reply with 22P05 (as Postgres raises it), and the rest up to ReadyForQuery is dropped.
/// A flush the client's socket cannot take yet (the client is not reading) can be started and left unfinished
/// (<see cref="StartFlush"/>): what is written meanwhile waits here, in order, and the next <see cref="FlushAsync"/> waits
/// for that flush first, so the engine reader never waits on one client's socket at the end of a reply.
/// Thread: whoever writes the client's output (the session, or the engine reader thread while the session awaits its
/// call; never both at once). An unfinished flush completes on its own; only its writer looks at it.
/// </summary>
internal sealed class ClientOutput : PipeWriter
{
    private readonly PipeWriter _inner;
    private readonly ClientEncoding _encoding;
    private readonly ArrayBufferWriter<byte> _pending = new(16 * 1024);
    private readonly StreamFramer _framer = new();
    private readonly StreamFramer.MessageHandler _convert;
    private PgEncoding? _converting;
    private short[]? _rowFormats; // of the last RowDescription (a simple Query's rows)
    private int[]? _rowTypes; // of the last RowDescription until its rows end: which binary columns are text
    private bool _copyOutText;
    private Decoder? _copyOutDecoder;
    private bool _droppingToReady;
    private Task<FlushResult>? _unfinished; // a flush the client's socket has not taken yet
    private readonly ArrayBufferWriter<byte> _behind = new(); // what was written (without conversion) after it, in order

    public ClientOutput(PipeWriter inner, ClientEncoding encoding)
    {
        _inner = inner;
        _encoding = encoding;
        _convert = message => Convert(message.Backend, message.Bytes);
        _converting = encoding.Converts ? encoding.Current : null;
    }

    public ClientEncoding Encoding => _encoding;

    /// <summary>
    /// The client speaks <paramref name="encoding"/> from now on. Called by the session between flushes, with nothing
    /// of the client's reply held here.
    /// </summary>
    public void SwitchTo(PgEncoding encoding)
    {
        if (_pending.WrittenCount > 0)
            throw new InvalidOperationException("the client's encoding changes only between flushes");
        _encoding.Use(encoding);
        _converting = _encoding.Converts ? encoding : null;
        _framer.Reset();
        _rowFormats = null;
        _copyOutText = false;
        _copyOutDecoder = null;
        _droppingToReady = false;
    }

    public override void Advance(int bytes)
    {
        if (_converting is not null)
            _pending.Advance(bytes);
        else if (_unfinished is not null)
            _behind.Advance(bytes);
        else
            _inner.Advance(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
        => _converting is not null ? _pending.GetMemory(sizeHint) : _unfinished is not null ? _behind.GetMemory(sizeHint) : _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0)
        => _converting is not null ? _pending.GetSpan(sizeHint) : _unfinished is not null ? _behind.GetSpan(sizeHint) : _inner.GetSpan(sizeHint);

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes + _pending.WrittenCount + _behind.WrittenCount;

    /// <summary>A flush was left unfinished (<see cref="StartFlush"/>): the client's socket has not taken it yet, or what was written
    /// behind it still waits here for the next <see cref="FlushAsync"/>.</summary>
    public bool FlushPending => _unfinished is not null;

    public override void CancelPendingFlush() => _inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_unfinished is not null)
            return FlushAfterUnfinishedAsync(cancellationToken);
        ConvertPending();
        return _inner.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Flushes without waiting for the client's socket: the result when the flush completed at once, null when it is left
    /// unfinished (or one already was): the next <see cref="FlushAsync"/> waits for it.
    /// </summary>
    public FlushResult? StartFlush()
    {
        if (_unfinished is not null)
        {
            if (!_unfinished.IsCompleted)
                return null;
            var done = TakeUnfinished();
            if (done.IsCompleted || done.IsCanceled)
                return done;
        }
        ConvertPending();
        var flush = _inner.FlushAsync();
        if (flush.IsCompleted)
            return flush.Result;
        _unfinished = flush.AsTask();
        return null;
    }

    private async ValueTask<FlushResult> FlushAfterUnfinishedAsync(CancellationToken cancellationToken)
    {
        await ((Task)_unfinished!).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        var done = TakeUnfinished();
        if (done.IsCompleted || done.IsCanceled)
            return done;
        ConvertPending();
        return await _inner.FlushAsync(cancellationToken);
    }

    /// <summary>The unfinished flush completed (or failed: thrown here): what waited behind it goes to the connection, unless it is gone.</summary>
    private FlushResult TakeUnfinished()
    {
        var unfinished = _unfinished!;
        _unfinished = null;
        FlushResult done;
        try
        {
            done = unfinished.GetAwaiter().GetResult();
        }
        catch
        {
            _behind.Clear(); // the connection failed: nothing more reaches it
            throw;
        }
        if (done.IsCompleted || done.IsCanceled)
            _behind.Clear();
        else if (_behind.WrittenCount > 0)
        {
            _inner.Write(_behind.WrittenSpan);
            _behind.ResetWrittenCount();
        }
        return done;
    }

    private void ConvertPending()
    {
        if (_converting is not null && _pending.WrittenCount > 0)
        {
            _framer.Feed(_pending.WrittenSpan, _convert);
            _pending.ResetWrittenCount(); // a message cut short stays in the framer until the rest is written
        }
    }

    private void Convert(BackendCode code, ReadOnlySpan<byte> message)
    {
        var client = _converting!;
        if (_droppingToReady && code is not (BackendCode.ReadyForQuery or BackendCode.NotificationResponse or BackendCode.ParameterStatus))
            return;
        switch (code)
        {
            case BackendCode.RowDescription:
                WriteRowDescription(client, message);
                return;
            case BackendCode.DataRow:
                WriteDataRow(client, message);
                return;
            case BackendCode.CommandComplete or BackendCode.EmptyQueryResponse or BackendCode.PortalSuspended:
                _rowFormats = null;
                _rowTypes = null;
                _encoding.ExecuteEnded();
                break;
            case BackendCode.ReadyForQuery:
                _droppingToReady = false;
                _rowFormats = null;
                _rowTypes = null;
                _copyOutText = false;
                _encoding.CopyInText = false;
                _encoding.ReadyForQuerySent();
                break;
            case BackendCode.ErrorResponse or BackendCode.NoticeResponse:
                WriteFields(client, message, code);
                return;
            case BackendCode.NotificationResponse:
                WriteNotification(client, message);
                return;
            case BackendCode.ParameterStatus:
                WriteParameterStatus(client, message);
                return;
            case BackendCode.NoData:
                _encoding.DescribeAnswered(null);
                break;
            case BackendCode.CopyInResponse:
                _encoding.CopyInText = CopyResponseReply.Parse(message).IsText;
                break;
            case BackendCode.CopyOutResponse:
                _copyOutText = CopyResponseReply.Parse(message).IsText;
                _copyOutDecoder = _copyOutText ? System.Text.Encoding.UTF8.GetDecoder() : null;
                break;
            case BackendCode.CopyBothResponse:
                _copyOutText = false; // replication streams are binary
                break;
            case BackendCode.CopyData when _copyOutText:
                WriteCopyData(client, message);
                return;
            case BackendCode.CopyDone:
                _copyOutText = false;
                break;
        }
        _inner.Write(message);
    }

    private void WriteRowDescription(PgEncoding client, ReadOnlySpan<byte> message)
    {
        var columns = RowDescriptionReply.Parse(message).Columns;
        var writer = new MessageWriter(_inner, BackendCode.RowDescription, message.Length + 16);
        writer.WriteInt16((short)columns.Length);
        var formats = new short[columns.Length];
        var types = new int[columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            var column = columns[i];
            writer.WriteCString(TextConversion.FromUtf8Lenient(client, column.Name));
            writer.WriteInt32(column.TableOid);
            writer.WriteInt16(column.Number);
            writer.WriteInt32(types[i] = column.TypeOid);
            writer.WriteInt16(column.Size);
            writer.WriteInt32(column.Modifier);
            writer.WriteInt16(formats[i] = column.Format);
        }
        writer.Complete();
        _rowFormats = formats;
        _rowTypes = types;
        _encoding.DescribeAnswered(types);
    }

    private void WriteDataRow(PgEncoding client, ReadOnlySpan<byte> message)
    {
        var formats = _rowFormats;
        if (_encoding.TryHeadExecute(out var executeFormats, out var describedTypes))
        {
            formats = executeFormats;
            _rowTypes ??= describedTypes;
        }
        var reader = new DataRowReader(message);
        var count = reader.Count;
        var row = new ArrayBufferWriter<byte>(message.Length + 16);
        var writer = new MessageWriter(row, BackendCode.DataRow, message.Length + 16);
        writer.WriteInt16(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var length = reader.ReadColumn(out var value);
                if (length < 0)
                {
                    writer.WriteInt32(length);
                    continue;
                }
                if (ClientEncoding.FormatOf(formats, i) != 0 && !IsBinaryText(i))
                {
                    writer.WriteInt32(length);
                    writer.WriteBytes(value);
                    continue;
                }
                var converted = new ArrayBufferWriter<byte>(length + 4);
                TextConversion.FromUtf8(client, value, converted);
                writer.WriteInt32(converted.WrittenCount);
                writer.WriteBytes(converted.WrittenSpan);
            }
        }
        catch (PgErrorException error)
        {
            ErrorResponse.Write(_inner, error.Error);
            _droppingToReady = true;
            return;
        }
        writer.Complete();
        _inner.Write(row.WrittenSpan);
    }

    /// <summary>
    /// Postgres's binary send functions of text types convert too (pq_sendtext): a binary column is converted when the
    /// RowDescription of its rows (a Describe of the portal, or the Query's own) says it is text, varchar, bpchar, name,
    /// json, xml or unknown. Without one in the reply (a driver that cached it) binary text goes out as the engine has it.
    /// </summary>
    private bool IsBinaryText(int column)
        => _rowTypes is { } types && column < types.Length && types[column] is 25 or 1043 or 1042 or 19 or 114 or 142 or 705;

    /// <summary>ErrorResponse/NoticeResponse: each field (type byte, string) in the client's encoding.</summary>
    private void WriteFields(PgEncoding client, ReadOnlySpan<byte> message, BackendCode code)
    {
        var writer = new MessageWriter(_inner, code, message.Length + 16);
        foreach (var (type, value) in ErrorReply.Fields(message))
        {
            writer.WriteByte(type);
            writer.WriteCString(TextConversion.FromUtf8Lenient(client, value));
        }
        writer.WriteByte(0);
        writer.Complete();
    }

    /// <summary>NotificationResponse: the channel and payload in the client's encoding.</summary>
    private void WriteNotification(PgEncoding client, ReadOnlySpan<byte> message)
    {
        var notification = NotificationReply.Parse(message);
        var writer = new MessageWriter(_inner, BackendCode.NotificationResponse, message.Length + 16);
        writer.WriteInt32(notification.ProcessId);
        writer.WriteCString(TextConversion.FromUtf8Lenient(client, System.Text.Encoding.UTF8.GetBytes(notification.Channel)));
        writer.WriteCString(TextConversion.FromUtf8Lenient(client, System.Text.Encoding.UTF8.GetBytes(notification.Payload)));
        writer.Complete();
    }

    private void WriteParameterStatus(PgEncoding client, ReadOnlySpan<byte> message)
    {
        var (name, value) = ParameterStatusReply.Parse(message);
        // The engine speaks UTF8 and says so; the client is told the encoding it speaks.
        if (name.Equals("client_encoding", StringComparison.OrdinalIgnoreCase))
            value = client.Name;
        var writer = new MessageWriter(_inner, BackendCode.ParameterStatus, message.Length + 16);
        writer.WriteCString(TextConversion.FromUtf8Lenient(client, System.Text.Encoding.UTF8.GetBytes(name)));
        writer.WriteCString(TextConversion.FromUtf8Lenient(client, System.Text.Encoding.UTF8.GetBytes(value)));
        writer.Complete();
    }

    private void WriteCopyData(PgEncoding client, ReadOnlySpan<byte> message)
    {
        var data = new ArrayBufferWriter<byte>(message.Length + 16);
        try
        {
            TextConversion.FromUtf8(client, _copyOutDecoder!, CopyDataReply.Parse(message).Data, data, last: false);
        }
        catch (PgErrorException error)
        {
            ErrorResponse.Write(_inner, error.Error);
            _droppingToReady = true;
            return;
        }
        var writer = new MessageWriter(_inner, BackendCode.CopyData, data.WrittenCount + 8);
        writer.WriteBytes(data.WrittenSpan);
        writer.Complete();
    }
}
