namespace ZeroPg.Replication.PgOutput;

/// <summary>One pgoutput message; writes exactly the bytes Postgres 15+'s proto.c writes for it.</summary>
internal interface IPgOutputMessage
{
    void WriteTo(PgOutputWriter writer);
}

internal static class PgOutputMessageExtensions
{
    public static byte[] Encode(this IPgOutputMessage message)
    {
        var w = new PgOutputWriter();
        message.WriteTo(w);
        return w.ToArray();
    }

    /// <summary>Inside a streamed transaction (protocol 2+) change messages carry the top-level xid.</summary>
    public static void StreamXid(this PgOutputWriter w, uint? xid)
    {
        if (xid is { } x) w.UInt32(x);
    }
}
