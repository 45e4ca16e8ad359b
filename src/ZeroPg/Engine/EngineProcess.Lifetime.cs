namespace ZeroPg.Engine;

/// <summary>Stopping the host, and what to say about it when it failed.</summary>
internal sealed partial class EngineProcess
{
    public string Diagnostics()
    {
        string tail;
        lock (_stderrTail)
            tail = string.Join(" | ", _stderrTail.TakeLast(5));
        var exit = _process.HasExited ? $"exit code {_process.ExitCode}" : "still running";
        return $"engine host pid {_process.Id} ({exit}){(_fatalMessage is null ? "" : ": " + _fatalMessage)}{(tail.Length > 0 ? "; stderr: " + tail : "")}";
    }

    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception error) when (error is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Already gone or not killable: nothing more to do.
        }
    }

    /// <summary>Closes stdin so the host finishes queued work and closes PGlite cleanly; kills it if it does not exit in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _writeLock.WaitAsync();
        try
        {
            _failed = true; // no new requests: the host is closing
            _stdin.Close();
        }
        catch (IOException)
        {
            // The host is already gone.
        }
        finally
        {
            _writeLock.Release();
        }
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            await KillAsync();
        }
        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _replies.Dispose();
        _doorbell?.Dispose();
        if (_cancelChannel is { } channel)
            await channel.DisposeAsync();
        _process.Dispose();
    }
}
