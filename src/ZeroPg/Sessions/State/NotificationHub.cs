namespace ZeroPg.Sessions;

/// <summary>
/// Which client listens on which channel, for one engine. The engine session listens on every channel any
/// client ever listened on; ZeroPg takes each notification out of the engine's replies and hands it to the
/// clients listening on its channel. Shared by all sessions and the engine reader thread: its lock owns it.
/// </summary>
internal sealed class NotificationHub
{
    private readonly Dictionary<string, HashSet<ClientNotifications>> _channels = new(StringComparer.Ordinal);

    public void Listen(ClientNotifications client, string channel)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(channel, out var listeners))
                _channels[channel] = listeners = [];
            listeners.Add(client);
        }
    }

    public void Unlisten(ClientNotifications client, string channel)
    {
        lock (_channels)
        {
            if (_channels.TryGetValue(channel, out var listeners) && listeners.Remove(client) && listeners.Count == 0)
                _channels.Remove(channel);
        }
    }

    public void UnlistenAll(ClientNotifications client)
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Where(c => c.Value.Contains(client)).Select(c => c.Key).ToList())
                Unlisten(client, channel);
        }
    }

    public ClientNotifications[] Listeners(string channel)
    {
        lock (_channels)
            return _channels.TryGetValue(channel, out var listeners) ? [.. listeners] : [];
    }

    public string[] ChannelsOf(ClientNotifications client)
    {
        lock (_channels)
            return [.. _channels.Where(c => c.Value.Contains(client)).Select(c => c.Key)];
    }

    /// <summary>LISTEN for every channel a client listens on: a new engine session (restart, DISCARD ALL in the engine) listens on none.</summary>
    public IEnumerable<string> ListenSql()
    {
        string[] channels;
        lock (_channels)
            channels = [.. _channels.Keys];
        return channels.Select(c => "LISTEN \"" + c.Replace("\"", "\"\"") + "\"");
    }
}
