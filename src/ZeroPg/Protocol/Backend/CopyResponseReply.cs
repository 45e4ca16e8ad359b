namespace ZeroPg.Protocol.Backend;

/// <summary>A CopyInResponse, CopyOutResponse or CopyBothResponse: its kind and whether its overall format is text.</summary>
internal readonly record struct CopyResponseReply(BackendCode Code, bool IsText)
{
    public static CopyResponseReply Parse(ReadOnlySpan<byte> message) => new((BackendCode)message[0], message[MessageFramer.HeaderLength] == 0);
}
