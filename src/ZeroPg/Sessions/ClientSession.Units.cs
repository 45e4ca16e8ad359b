using System.Buffers;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>Running one unit of a client's messages and applying what it did to the client's state.</summary>
internal sealed partial class ClientSession
{
    private bool _usedAdvisoryLocks;

    /// <summary>Runs the first <paramref name="end"/> bytes of the client's messages, rewritten for the shared engine session.</summary>
    private async Task ExecuteClientMessagesAsync(int end)
    {
        while (true)
        {
            await AcquireEngineAsync();
            var before = _status;
            Rewrite(_batch.Messages[..end]);
            if (_effects.CreatesExtension is { } extension && before == TransactionStatus.Idle && await TryLoadExtensionAsync(extension))
                Rewrite(_batch.Messages[..end]); // the engine restarted: statements must be prepared again
            if (!_effects.UsesAdvisoryLocks)
            {
                await ExecuteAsync(_engineBatch.Frame(HostRequestKind.Batch, _engineBatch.MessageBytes), ReplyMode.Forward,
                    expectations: _expectations, releaseAfterSubmit: CanPipeline(_batch.Messages[..end], before));
                _runPlainOnce = _forwarder.RetryPlain;
                if (_runPlainOnce)
                    continue;
                break;
            }
            _usedAdvisoryLocks = true;
            await EnsureAdvisoryInstalledAsync();
            // Captured, not forwarded: a lock held by another client means running the unit again later.
            Rewrite(_batch.Messages[..end]);
            await ExecuteAsync(_engineBatch.Frame(HostRequestKind.Batch, _engineBatch.MessageBytes), ReplyMode.Capture, expectations: _expectations);
            var busy = _forwarder.Captured.Any(IsAdvisoryBusy);
            if (busy && before == TransactionStatus.Idle && _status == TransactionStatus.Idle)
            {
                await WaitForAdvisoryReleaseAsync();
                continue;
            }
            foreach (var message in _forwarder.Captured)
            {
                if (IsAdvisoryBusy(message))
                    ErrorResponse.Write(_output, PgError.Error(SqlState.LockNotAvailable,
                        "could not obtain advisory lock: another client holds it",
                        "ZeroPg waits for a blocking advisory lock only outside transaction blocks; inside one it fails instead of holding the shared engine."));
                else
                    _output.Write(message);
            }
            await _output.FlushAsync();
            _services.EngineState.SignalAdvisoryChange();
            break;
        }
        await ApplyEffectsAsync();
    }

    private static bool IsAdvisoryBusy(byte[] message)
        => message[0] == (byte)BackendCode.ErrorResponse && ErrorResponse.ReadSqlState(message.AsSpan(5)) == AdvisoryLockSql.BusySqlState;

    /// <summary>Gives the engine to others while waiting for another client to release an advisory lock.</summary>
    private async Task WaitForAdvisoryReleaseAsync()
    {
        var changed = _services.EngineState.AdvisoryChanged;
        _services.Scheduler.Release(this);
        // Poll as well: a lock may also be freed by a disconnect on an engine restart.
        await Task.WhenAny(changed, Task.Delay(250, _connectionClosed));
        _connectionClosed.ThrowIfCancellationRequested();
        if (_cancelWait.IsCancellationRequested)
        {
            ResetCancel();
            throw new QueueWaitAbortedException(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request",
                "The statement was waiting for an advisory lock held by another client."));
        }
    }

    private async Task EnsureAdvisoryInstalledAsync()
    {
        var state = _services.EngineState;
        if (state.AdvisoryInstalledGeneration == _services.Engine.Generation)
            return;
        var batch = new BatchBuffer();
        QueryMessage.Write(batch, AdvisoryLockSql.Install);
        await ExecuteAsync(batch.Frame(HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Capture);
        var failure = _forwarder.Captured.FirstOrDefault(m => m[0] == (byte)BackendCode.ErrorResponse);
        if (failure is not null)
            throw new PgErrorException(PgError.Error(SqlState.InternalError, "ZeroPg could not set up per-client advisory locks",
                detail: ErrorResponse.ReadField(failure.AsSpan(5), (byte)'M')));
        state.AdvisoryInstalledGeneration = _services.Engine.Generation;
    }

    /// <summary>What the unit changed in this client's own session state.</summary>
    private async Task ApplyEffectsAsync()
    {
        var effects = _effects;
        EndSchemaChangeIfIdle();
        ApplyListenEffects(effects);
        if (effects.DiscardAllAnswered)
        {
            // This client's DISCARD ALL, without touching the others sharing the engine.
            _statements.Clear();
            _services.Notifications.UnlistenAll(this);
            _settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            await RestoreSettingsAsync();
            if (_usedAdvisoryLocks)
                await RunHousekeepingAsync(AdvisoryLockSql.UnlockAll(ProcessId));
            _settingsDirty = false;
        }
        else if (effects.DeallocateAllAnswered)
        {
            _statements.Clear();
        }
        if (effects.DeallocatesAll)
        {
            // DEALLOCATE ALL or DISCARD ALL ran in the engine itself: its statements are gone for everyone (re-prepared on use,
            // closing first). The client's own names go only if it did run: DISCARD ALL fails inside a transaction block.
            Catalog.Forget();
            if (_status != TransactionStatus.Failed)
                _statements.Clear();
        }
        if (effects.DropsAllTemp)
        {
            // ZeroPg's advisory lock functions were temp objects too; other clients' temp tables are gone.
            _services.EngineState.AdvisoryInstalledGeneration = -1;
            _services.EngineState.TempOwner = null;
        }
        if (effects.UnlistensEngine)
            await RelistenAllAsync();
        if (effects.UsesAdvisoryLocks)
            _services.EngineState.SignalAdvisoryChange();
        if (effects.SettingsChanged)
            _settingsDirty = true;
        foreach (var name in effects.CustomSettings)
            _customSettingNames.Add(name);
        if (_settingsDirty && _status == TransactionStatus.Idle && _copy is null)
            await SnapshotSettingsAsync();
        if (effects.TempObjectsChanged)
            _tempDirty = true;
        if (_tempDirty && _status == TransactionStatus.Idle && _copy is null)
            await DiscoverTempRelationsAsync();
    }

    /// <summary>
    /// CREATE EXTENSION of an extension bundled with PGlite but not preloaded: restart the engine with it
    /// (PGlite loads extensions only at start) instead of failing with "not available". Not while another
    /// client holds temp tables or advisory locks in the engine session, which a restart would drop.
    /// </summary>
    private async Task<bool> TryLoadExtensionAsync(string extension)
    {
        var engine = _services.Engine;
        if (!engine.CanLoad(extension))
            return false;
        if (_services.Registry.Sessions.Any(s => s != this && s.HoldsEngineSessionObjects))
            return false;
        await engine.LoadExtensionAsync(extension, _connectionClosed);
        await OnEngineAcquiredAsync();
        await RelistenAllAsync();
        return true;
    }

    /// <summary>Objects of this client that live only as long as the engine session (temp tables, advisory locks).</summary>
    internal bool HoldsEngineSessionObjects => _tempRelations.Count > 0 || _usedAdvisoryLocks;

    /// <summary>DISCARD ALL in the engine unlistened every channel: listen again on those clients still want.</summary>
    private async Task RelistenAllAsync()
    {
        var channels = _services.Notifications.AllChannels();
        if (channels.Length > 0)
            await RunHousekeepingAsync(channels.Select(c => "LISTEN \"" + c.Replace("\"", "\"\"") + "\""));
    }

    /// <summary>Runs SQL of ZeroPg's own for this client and drops the reply; each statement is its own Query, so one failing does not skip the rest.</summary>
    private async Task RunHousekeepingAsync(params IEnumerable<string> statements)
    {
        var batch = new BatchBuffer();
        foreach (var sql in statements)
            QueryMessage.Write(batch, sql);
        if (batch.IsEmpty)
            return;
        await ExecuteAsync(batch.Frame(HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Discard);
    }
}
