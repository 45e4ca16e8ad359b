namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    /// <summary>
    /// This session just got the engine: bring the engine session to this client's state (after an
    /// engine restart nothing of the old engine session is left).
    /// </summary>
    private async Task OnEngineAcquiredAsync()
    {
        var generation = _services.Engine.Generation;
        if (Catalog.EngineGeneration != generation)
        {
            Catalog.Forget();
            Catalog.EngineGeneration = generation;
            _services.EngineState.Reset();
            _forwarder.ResetSequence();
        }
        await RestoreSettingsAsync();
        await SwapTempRelationsAsync();
    }
}
