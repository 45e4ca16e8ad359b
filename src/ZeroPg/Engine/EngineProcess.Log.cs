using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine;

// EngineProcess's log messages, beside it.
internal sealed partial class EngineProcess
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "engine: {Line}")]
        public static partial void EngineStderr(ILogger logger, string line);

        [LoggerMessage(Level = LogLevel.Warning, Message = "the engine host cannot cancel inside the engine (no shared engine memory or cancel listener): a cancel restarts a data directory's engine instead")]
        public static partial void NoCancelInEngine(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "killing engine pid {Pid} to stop batch {Sequence}, which ran on {Milliseconds:0} ms after its cancel; it restarts (with crash recovery on a data directory)")]
        public static partial void KillingToCancel(ILogger logger, int pid, long sequence, double milliseconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "engine batch {Sequence} ran on {Milliseconds:0} ms after its cancel ({Reason}): {Batch}")]
        public static partial void UnhonouredCancel(ILogger logger, long sequence, EngineCancelReason reason, double milliseconds, string batch);

        [LoggerMessage(Level = LogLevel.Warning, Message = "engine batch {Sequence} ran on {Milliseconds:0} ms after its cancel ({Reason}); a memory:// engine is not restarted to stop it (every client's data would be lost): waiting for it to end. {Batch}")]
        public static partial void WaitingForUnhonouredCancel(ILogger logger, long sequence, EngineCancelReason reason, double milliseconds, string batch);

        [LoggerMessage(Level = LogLevel.Error, Message = "engine reported a fatal error: {Message}")]
        public static partial void EngineFatal(ILogger logger, string message);
    }
}
