namespace ZeroPg.Tests.Infrastructure;

/// <summary>Sending what is queued and reading the server's replies.</summary>
public sealed partial class RawProtocolClient
{
    // Only a bound on a hung test, not part of any assertion: generous, as the machine may be loaded.
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Sends every queued message in one write.</summary>
    public async Task FlushAsync()
    {
        var bytes = _pending.ToArray();
        _pending.SetLength(0);
        await _wire.WriteAsync(bytes);
    }

    /// <summary>Sends the queued messages and reads the replies up to ReadyForQuery.</summary>
    public async Task<List<Message>> RoundTripAsync(TimeSpan? timeout = null)
    {
        await FlushAsync();
        return await ReadUntilReadyAsync(timeout);
    }

    /// <summary>Runs <paramref name="sql"/> as a simple Query and returns the columns of its only DataRow.</summary>
    public async Task<string?[]> SingleRowAsync(string sql) => (await Query(sql).RoundTripAsync()).Single(m => m.Code == 'D').Columns();

    /// <summary>One byte outside message framing, as the answer to an SSLRequest is.</summary>
    public async Task<byte> ReadByteAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        return await _wire.ReadByteAsync(cancel.Token) ?? throw new EndOfStreamException("connection closed before the byte");
    }

    /// <summary>The next backend message, or null when the server closed the connection between messages.</summary>
    public async Task<Message?> ReadMessageAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        return await _wire.ReadMessageAsync(cancel.Token) is { } whole ? Message.FromWhole(whole) : null;
    }

    /// <summary>Messages up to and including the next ReadyForQuery; the timeout applies to each message.</summary>
    public async Task<List<Message>> ReadUntilReadyAsync(TimeSpan? timeout = null)
    {
        var messages = new List<Message>();
        while (true)
        {
            var message = await ReadMessageAsync(timeout) ?? throw new EndOfStreamException(
                $"connection closed before ReadyForQuery; got: {Describe(messages)}");
            messages.Add(message);
            if (message.Code == 'Z')
                return messages;
        }
    }

    /// <summary>Sends the queued messages and reads the replies up to and including the next of type <paramref name="code"/> or an error (after a Flush: 's' PortalSuspended, ...).</summary>
    public async Task<List<Message>> RoundTripUntilAsync(char code, TimeSpan? timeout = null)
    {
        await FlushAsync();
        var messages = new List<Message>();
        while (true)
        {
            var message = await ReadMessageAsync(timeout) ?? throw new EndOfStreamException(
                $"connection closed before '{code}'; got: {Describe(messages)}");
            messages.Add(message);
            if (message.Code == code || message.Code == 'E')
                return messages;
        }
    }

    /// <summary>Everything until the server closes the connection; the timeout applies to each message.</summary>
    public async Task<List<Message>> ReadUntilClosedAsync(TimeSpan? timeout = null)
    {
        var messages = new List<Message>();
        try
        {
            while (await ReadMessageAsync(timeout) is { } message)
                messages.Add(message);
        }
        catch (IOException)
        {
            // A reset, or a close inside a message, is the server closing too.
        }
        return messages;
    }

    /// <summary>For assertion messages: each message's type, with the error or row it carries.</summary>
    public static string Describe(IEnumerable<Message> messages) => string.Join(", ", messages);
}
