namespace ZeroPg.Engine;

/// <summary>What a commit acknowledged to a client survives (on-disk data directories).</summary>
public enum EngineDurability
{
    /// <summary>
    /// PGlite writes through the OS page cache and never fsyncs: commits survive a crash of the engine
    /// or the server, not an OS crash or power loss.
    /// </summary>
    ProcessCrash,

    /// <summary>The engine fsyncs every file it wrote before a batch's reply ends: commits also survive an OS crash.</summary>
    Fsync,
}
