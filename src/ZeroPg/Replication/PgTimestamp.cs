namespace ZeroPg.Replication;

/// <summary>Postgres wire timestamps: microseconds since 2000-01-01 00:00:00 UTC.</summary>
internal static class PgTimestamp
{
    private static readonly DateTime Epoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static long FromDateTime(DateTime utc) => (utc.ToUniversalTime() - Epoch).Ticks / 10;

    public static DateTime ToDateTime(long micros) => Epoch.AddTicks(micros * 10);
}
