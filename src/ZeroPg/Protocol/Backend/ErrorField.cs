namespace ZeroPg.Protocol.Backend;

/// <summary>Type bytes of the fields in an ErrorResponse or NoticeResponse body (those ZeroPg writes or reads).</summary>
internal enum ErrorField : byte
{
    Severity = (byte)'S',
    SeverityNonLocalized = (byte)'V',
    SqlState = (byte)'C',
    Message = (byte)'M',
    Detail = (byte)'D',
    Hint = (byte)'H',
    Position = (byte)'P',
    Where = (byte)'W',
}
