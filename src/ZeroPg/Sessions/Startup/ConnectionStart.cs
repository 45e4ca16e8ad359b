using System.Net.Security;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>What the startup phase hands to a session: the StartupMessage (parsed, and its bytes), and the TLS stream when the connection is encrypted.</summary>
internal sealed record ConnectionStart(StartupPacket Packet, byte[] Bytes, SslStream? Tls);
