using System.Buffers.Binary;

namespace ZeroPg.Sessions.Copy;

/// <summary>One COPY the engine runs: bytes [<see cref="Start"/>, +<see cref="Length"/>) of the client's data, after <see cref="LinesBefore"/> of its lines.</summary>
internal readonly record struct CopyPiece(long Start, long Length, long LinesBefore, bool First, bool Last);

/// <summary>
/// Reads a COPY's data as it arrives and cuts it into pieces of about <c>pieceBytes</c> at row boundaries, as
/// Postgres's own reader (copyfromparse.c) finds them: text rows end at a newline not escaped by a backslash, and
/// <c>\.</c> at the start of a row ends the data; CSV rows at a newline outside quotes (the quote and escape rules
/// of CopyReadLineText); binary tuples by their field count and lengths. It counts lines as Postgres's cur_lineno
/// does (text: rows; CSV: every newline, quoted ones too; binary: tuples), so that an error in a piece can name
/// its line in the whole COPY. A piece after the first is given the header again (<see cref="Prefix"/>): the
/// header line of a CSV/text COPY with HEADER, the binary file header. Data it cannot follow (a header over
/// 1 MB) is left in one piece. Thread: the session.
/// </summary>
internal sealed class CopyRowCutter
{
    private const int MaxPrefixBytes = 1 << 20;
    private static readonly byte[] BinarySignature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    private readonly CopyFormat _format;
    private readonly long _pieceBytes;
    private readonly long _pieceLines;
    private readonly byte _escape; // 0 when it is the quote (then the quote alone toggles), as Postgres does
    private readonly List<CopyPiece> _pieces = [];
    private long _position;
    private long _pieceStart;
    private long _lines;
    private long _linesBeforePiece;
    private bool _disabled;

    // Text and CSV.
    private bool _escaped;
    private bool _atRowStart = true;
    private bool _backslashAtRowStart;
    private bool _inQuote;
    private bool _lastWasEscape;

    // The prefix (header line or binary header), captured from the start of the data.
    private MemoryStream? _prefixCapture;

    // Binary.
    private BinaryPhase _phase = BinaryPhase.Header;
    private readonly byte[] _word = new byte[19];
    private int _wordHave;
    private int _wordNeed = 19;
    private long _skip;
    private int _fieldsLeft;

    /// <param name="pieceBytes">A piece ends at the first row boundary past this many bytes...</param>
    /// <param name="pieceLines">... or past this many lines (short rows: PGlite's COPY slows with the rows of one call too).</param>
    public CopyRowCutter(CopyFormat format, long pieceBytes, long pieceLines = long.MaxValue)
    {
        _format = format;
        _pieceBytes = pieceBytes;
        _pieceLines = pieceLines;
        _escape = format.Escape == format.Quote ? (byte)0 : format.Escape;
        if (format.Header || format.Kind == CopyDataKind.Binary)
            _prefixCapture = new MemoryStream();
    }

    /// <summary>Bytes given to every piece after the first, before its data (null: none).</summary>
    public byte[]? Prefix { get; private set; }

    /// <summary>Lines of <see cref="Prefix"/> in Postgres's count (a header line: its newlines; a binary header: none).</summary>
    public long PrefixLines { get; private set; }

    /// <summary>The data ended inside itself (text's <c>\.</c>, binary's trailer): what follows needs no cutting.</summary>
    public bool Ended { get; private set; }

    public CopyDataKind Kind => _format.Kind;

    /// <summary>Takes the next bytes of the data.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_prefixCapture is not null)
            CapturePrefix(data);
        if (!_disabled && !Ended)
        {
            switch (_format.Kind)
            {
                case CopyDataKind.Text: FeedText(data); break;
                case CopyDataKind.Csv: FeedCsv(data); break;
                default: FeedBinary(data); break;
            }
        }
        _position += data.Length;
    }

    /// <summary>All pieces of data <paramref name="total"/> bytes long (what was fed, or less when the rest was dropped after the end).</summary>
    public IReadOnlyList<CopyPiece> Pieces(long total)
    {
        var pieces = new List<CopyPiece>(_pieces.Count + 1);
        if (_disabled)
        {
            pieces.Add(new CopyPiece(0, total, 0, First: true, Last: true));
            return pieces;
        }
        pieces.AddRange(_pieces);
        pieces.Add(new CopyPiece(_pieceStart, total - _pieceStart, _linesBeforePiece, First: _pieces.Count == 0, Last: true));
        return pieces;
    }

    private void CapturePrefix(ReadOnlySpan<byte> data)
    {
        _prefixCapture!.Write(data);
        if (_prefixCapture.Length > MaxPrefixBytes)
        {
            _disabled = true;
            _prefixCapture = null;
        }
    }

    /// <summary>The prefix ends at <paramref name="end"/> (absolute; it starts at 0).</summary>
    private void PrefixEnds(long end, long lines)
    {
        if (_prefixCapture is null)
            return;
        Prefix = _prefixCapture.GetBuffer().AsSpan(0, (int)end).ToArray();
        PrefixLines = lines;
        _prefixCapture = null;
    }

    private void RowEnds(long end)
    {
        if (_prefixCapture is not null && _format.Kind != CopyDataKind.Binary)
            PrefixEnds(end, _lines);
        if (end - _pieceStart < _pieceBytes && _lines - _linesBeforePiece < _pieceLines)
            return;
        _pieces.Add(new CopyPiece(_pieceStart, end - _pieceStart, _linesBeforePiece, First: _pieces.Count == 0, Last: false));
        _pieceStart = end;
        _linesBeforePiece = _lines;
    }

    private void FeedText(ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            var b = data[i];
            if (_escaped)
            {
                _escaped = false;
                if (_backslashAtRowStart && b == (byte)'.')
                {
                    Ended = true; // \. ends the data; the rest goes with this piece and the engine ignores it
                    return;
                }
                continue;
            }
            if (b == (byte)'\\')
            {
                _escaped = true;
                _backslashAtRowStart = _atRowStart;
                _atRowStart = false;
                continue;
            }
            if (b == (byte)'\n')
            {
                _lines++;
                _atRowStart = true;
                RowEnds(_position + i + 1);
                continue;
            }
            _atRowStart = false;
        }
    }

    private void FeedCsv(ReadOnlySpan<byte> data)
    {
        var quote = _format.Quote;
        for (var i = 0; i < data.Length; i++)
        {
            var b = data[i];
            if (_inQuote && b == _escape)
                _lastWasEscape = !_lastWasEscape;
            if (b == quote && !_lastWasEscape)
                _inQuote = !_inQuote;
            if (b != _escape)
                _lastWasEscape = false;
            if (b == (byte)'\n')
            {
                _lines++; // Postgres counts a quoted newline as a line too
                if (!_inQuote)
                    RowEnds(_position + i + 1);
            }
        }
    }

    private void FeedBinary(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length && !_disabled && !Ended)
        {
            if (_skip > 0)
            {
                var take = (int)Math.Min(_skip, data.Length - i);
                _skip -= take;
                i += take;
                if (_skip == 0)
                    FieldDone(_position + i);
                continue;
            }
            var need = Math.Min(_wordNeed - _wordHave, data.Length - i);
            data.Slice(i, need).CopyTo(_word.AsSpan(_wordHave));
            _wordHave += need;
            i += need;
            if (_wordHave == _wordNeed)
                WordDone(_position + i);
        }
    }

    private void WordDone(long at)
    {
        var word = _word.AsSpan(0, _wordNeed);
        _wordHave = 0;
        switch (_phase)
        {
            case BinaryPhase.Header:
                var extension = BinaryPrimitives.ReadInt32BigEndian(word[15..]);
                if (!word[..11].SequenceEqual(BinarySignature) || extension < 0 || extension > MaxPrefixBytes)
                {
                    _disabled = true; // the engine reports the bad header
                    return;
                }
                _skip = extension;
                _phase = BinaryPhase.HeaderExtension;
                if (extension == 0)
                    FieldDone(at);
                return;
            case BinaryPhase.TupleCount:
                var count = BinaryPrimitives.ReadInt16BigEndian(word);
                if (count == -1)
                {
                    Ended = true; // the trailer; anything after it is the engine's to refuse
                    return;
                }
                _fieldsLeft = count;
                if (count <= 0)
                {
                    TupleDone(at);
                    return;
                }
                _phase = BinaryPhase.FieldLength;
                _wordNeed = 4;
                return;
            case BinaryPhase.FieldLength:
                var length = BinaryPrimitives.ReadInt32BigEndian(word);
                if (length > 0)
                {
                    _skip = length;
                    return;
                }
                FieldDone(at); // NULL (-1) or empty
                return;
        }
    }

    private void FieldDone(long at)
    {
        if (_phase == BinaryPhase.HeaderExtension)
        {
            PrefixEnds(at, 0);
            ExpectTuple();
            return;
        }
        if (--_fieldsLeft > 0)
        {
            _wordNeed = 4;
            return;
        }
        TupleDone(at);
    }

    private void TupleDone(long at)
    {
        _lines++;
        ExpectTuple();
        RowEnds(at);
    }

    private void ExpectTuple()
    {
        _phase = BinaryPhase.TupleCount;
        _wordNeed = 2;
    }

    private enum BinaryPhase : byte
    {
        Header,
        HeaderExtension,
        TupleCount,
        FieldLength,
    }
}
