namespace ZeroPg.Sessions;

/// <summary>
/// Which client listens on which channel. The engine session listens on every channel any client ever
/// listened on; ZeroPg takes each notification out of the engine's replies and hands it to the
/// clients listening on its channel.
/// </summary>
internal sealed class NotificationHub
{
    private readonly Dictionary<string, HashSet<ClientSession>> _channels = new(StringComparer.Ordinal);

    public void Listen(ClientSession session, string channel)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(channel, out var listeners))
                _channels[channel] = listeners = [];
            listeners.Add(session);
        }
    }

    public void Unlisten(ClientSession session, string channel)
    {
        lock (_channels)
        {
            if (_channels.TryGetValue(channel, out var listeners) && listeners.Remove(session) && listeners.Count == 0)
                _channels.Remove(channel);
        }
    }

    public void UnlistenAll(ClientSession session)
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Where(c => c.Value.Contains(session)).Select(c => c.Key).ToList())
                Unlisten(session, channel);
        }
    }

    public ClientSession[] Listeners(string channel)
    {
        lock (_channels)
            return _channels.TryGetValue(channel, out var listeners) ? [.. listeners] : [];
    }

    public string[] ChannelsOf(ClientSession session)
    {
        lock (_channels)
            return [.. _channels.Where(c => c.Value.Contains(session)).Select(c => c.Key)];
    }

    public string[] AllChannels()
    {
        lock (_channels)
            return [.. _channels.Keys];
    }
}
