namespace ZeroPg.Replication.PgOutput;

/// <summary>The first byte of each pgoutput message (protocol-logicalrep-message-formats).</summary>
internal enum PgOutputCode : byte
{
    Begin = (byte)'B',
    Commit = (byte)'C',
    Origin = (byte)'O',
    Relation = (byte)'R',
    Type = (byte)'Y',
    Insert = (byte)'I',
    Update = (byte)'U',
    Delete = (byte)'D',
    Truncate = (byte)'T',
    Message = (byte)'M',
    StreamStart = (byte)'S',
    StreamStop = (byte)'E',
    StreamCommit = (byte)'c',
    StreamAbort = (byte)'A',
    BeginPrepare = (byte)'b',
    Prepare = (byte)'P',
    CommitPrepared = (byte)'K',
    RollbackPrepared = (byte)'r',
    StreamPrepare = (byte)'p',
}
