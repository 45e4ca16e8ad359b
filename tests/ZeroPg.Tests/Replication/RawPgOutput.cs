using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.Internal;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// A slot's pgoutput messages as raw bytes, read the two ways a consumer reads them: pg_logical_slot_peek_binary_changes on a
/// connection (ZeroPg's SQL decoder, or Postgres's), and a walsender stream through Npgsql's raw XLogData API (ZeroPg's
/// stream). The tests turn them into text with <see cref="PgOutputText"/> and compare.
/// </summary>
public static class RawPgOutput
{
    /// <summary>Every message from the slot's confirmed position; <paramref name="options"/> is the function's option list as SQL.</summary>
    public static async Task<List<byte[]>> PeekAsync(NpgsqlConnection connection, string slot, string options)
    {
        await using var command = new NpgsqlCommand($"SELECT data FROM pg_logical_slot_peek_binary_changes('{slot}', NULL, NULL, {options})", connection);
        var messages = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            messages.Add((byte[])reader[0]);
        return messages;
    }

    /// <summary>START_REPLICATION from the slot's confirmed position, up to and with the message <paramref name="isLast"/> picks (60 s at most).</summary>
    /// <remarks>
    /// The 60 s bound is not a cancellation token given to Npgsql: a token that fires while the stream ends for another reason
    /// races Npgsql 10's cancel against the connection's disposal, and the loser dies of a NullReferenceException on a timer
    /// thread, which ends the whole test run instead of this test.
    /// </remarks>
    public static async Task<List<byte[]>> StreamAsync(string connectionString, string slot, IEnumerable<KeyValuePair<string, string?>> options,
        Func<byte[], bool> isLast)
    {
        await using var replication = new LogicalReplicationConnection(connectionString);
        await replication.Open();
        return await ReadAsync(replication, slot, options, isLast).WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<List<byte[]>> ReadAsync(LogicalReplicationConnection replication, string slot,
        IEnumerable<KeyValuePair<string, string?>> options, Func<byte[], bool> isLast)
    {
        var messages = new List<byte[]>();
        await foreach (var data in replication.StartLogicalReplication(new Slot(slot), CancellationToken.None, options: [.. options]))
        {
            using var bytes = new MemoryStream();
            await data.Data.CopyToAsync(bytes);
            var message = bytes.ToArray();
            messages.Add(message);
            if (isLast(message))
                break;
        }
        return messages;
    }

    private sealed class Slot(string name) : LogicalReplicationSlot("pgoutput", new ReplicationSlotOptions(name));
}
