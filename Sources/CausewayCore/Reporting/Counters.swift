/// Why a datagram from the WAN or a frame from the LAN was dropped.
public enum DropReason: String, CaseIterable, Codable, CodingKeyRepresentable, Error, Sendable {
    /// Too short, an unknown version or message type, or a length that does not fit.
    case malformed
    /// Failed ChaCha20-Poly1305 authentication, or a handshake that did not prove its keys.
    case authentication
    /// A handshake message whose mac1 is not keyed by our public key: sent by someone who
    /// does not know it, or junk. Costs us two HMACs (ours, and the echo check), no
    /// Diffie-Hellman.
    case badMAC1 = "bad-mac1"
    /// One of our own handshake messages came back (its mac1 is keyed by the peer's public
    /// key): an echo or a reflection, never a session.
    case ownMessage = "own-message"
    /// A handshake initiation that authenticated but names a static key other than the
    /// configured peer's.
    case unknownPeer = "unknown-peer"
    /// Under load, a handshake message without a valid cookie (mac2); a cookie reply went back.
    case cookieRequired = "cookie-required"
    /// A counter seen before, or too old for the replay window.
    case replay
    /// Names a session this gateway does not have (never had, or already discarded).
    case unknownSession = "unknown-session"
    /// An authenticated data frame for a network id this gateway does not bridge.
    case unknownNetwork = "unknown-network"
    /// A session past its reject-after time.
    case expiredSession = "expired-session"
    /// A handshake initiation whose timestamp is not newer than the last accepted one, or a
    /// replay of a recent one.
    case staleHandshake = "stale-handshake"
    /// Handshake messages beyond the per-source limit or the per-turn budget.
    case handshakeRateLimited = "handshake-rate-limited"
    /// A handshake response or cookie reply that names no handshake in flight.
    case unknownIndex = "unknown-index"
    /// A frame from the LAN while no session to the peer is up.
    case noSession = "no-session"
    /// A frame larger than the link carries.
    case oversized
    /// The kernel refused to take the frame or datagram.
    case sendFailed = "send-failed"
    /// A fragment overlapping another piece of its frame: the frame is dropped.
    case fragmentOverlap = "fragment-overlap"
    /// A fragment reaching past its frame, naming an impossible length, or one piece too many.
    case fragmentOversized = "fragment-oversized"
    /// A split frame not complete within the reassembly timeout.
    case reassemblyTimeout = "reassembly-timeout"
    /// A split frame given up to make room: every reassembly slot was in use.
    case reassemblyFull = "reassembly-full"
}

/// Every counter the daemon keeps. A plain value: the data plane owns one and publishes copies.
public struct Counters: Codable, Sendable, Equatable {
    public var framesFromLAN: UInt64 = 0
    public var bytesFromLAN: UInt64 = 0
    public var framesToPeer: UInt64 = 0
    public var bytesToPeer: UInt64 = 0
    public var framesFromPeer: UInt64 = 0
    public var bytesFromPeer: UInt64 = 0
    public var framesToLAN: UInt64 = 0
    public var bytesToLAN: UInt64 = 0
    /// Broadcast, multicast and unknown-unicast frames sent to the peer.
    public var flooded: UInt64 = 0
    /// Frames for a MAC learned as local, kept off the WAN.
    public var suppressedLocal: UInt64 = 0
    public var macMoves: UInt64 = 0
    /// Source addresses not learned because the MAC table was at its cap.
    public var macTableFull: UInt64 = 0
    public var keepalivesSent: UInt64 = 0
    public var keepalivesReceived: UInt64 = 0
    /// Handshake initiations sent.
    public var handshakesInitiated: UInt64 = 0
    /// Datagrams of the initiation's type and length received (before any check).
    public var initiationsReceived: UInt64 = 0
    /// Initiations answered with a response.
    public var handshakesAnswered: UInt64 = 0
    /// Datagrams of the response's type and length received (before any check).
    public var responsesReceived: UInt64 = 0
    public var cookieRepliesSent: UInt64 = 0
    /// Cookie replies from the peer that opened.
    public var cookieRepliesReceived: UInt64 = 0
    /// Sessions that became the current one.
    public var sessionsEstablished: UInt64 = 0
    /// Frames too large for one datagram on the current path, sent as fragments.
    public var framesFragmented: UInt64 = 0
    public var fragmentsSent: UInt64 = 0
    public var fragmentsReceived: UInt64 = 0
    /// Split frames put back together and delivered.
    public var framesReassembled: UInt64 = 0
    /// Large TCP frames from the LAN (segmentation offload) cut into segments.
    public var framesSegmented: UInt64 = 0
    /// Frames for the LAN merged with others of their TCP flow into one TAP write.
    public var framesCoalesced: UInt64 = 0
    /// TCP SYN and SYN-ACK segments whose MSS was lowered to fit the path.
    public var mssClamped: UInt64 = 0
    /// Frames too large for the path answered with ICMP "too big" (`icmp-too-big`).
    public var tooBigSent: UInt64 = 0
    public var pathProbesSent: UInt64 = 0
    public var pathProbesAcknowledged: UInt64 = 0
    public var drops: [DropReason: UInt64] = Dictionary(uniqueKeysWithValues: DropReason.allCases.map { ($0, 0) })

    public init() {}

    /// Adds one drop. Every reason has a slot from the start, so this never grows the storage.
    @inlinable
    public mutating func drop(_ reason: DropReason, count: Int = 1) {
        drops[reason, default: 0] &+= UInt64(count)
    }

    public func drops(_ reason: DropReason) -> UInt64 { drops[reason] ?? 0 }
}
