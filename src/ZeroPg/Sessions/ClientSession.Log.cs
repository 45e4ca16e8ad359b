using Microsoft.Extensions.Logging;

namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Trace, Message = "session {ProcessId}: engine call of {Bytes} bytes, {Expectations} expected replies, mode {Mode}")]
        public static partial void Submitting(ILogger logger, int processId, int bytes, int expectations, ReplyMode mode);

        [LoggerMessage(Level = LogLevel.Trace, Message = "session {ProcessId}: reply done, status {Status}")]
        public static partial void ReplyDone(ILogger logger, int processId, string status);
    }
}
