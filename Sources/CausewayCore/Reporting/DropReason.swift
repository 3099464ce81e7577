/// Why a datagram from the WAN or a frame from the LAN was dropped.
public enum DropReason: String, CaseIterable, Codable, Error, Sendable {
    /// Too short, an unknown version or message type, or a length that does not fit.
    case malformed
    /// Failed AEAD authentication (a transport message or a sealed handshake field), or a
    /// handshake that did not prove its keys.
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
    /// A handshake initiation of a configured peer whose cipher offer shares no transport
    /// cipher with this gateway's: the two sites' `cipher` settings name different ciphers.
    case noCommonCipher = "no-common-cipher"
    /// Under load, a handshake message without a valid cookie (mac2); a cookie reply went back.
    case cookieRequired = "cookie-required"
    /// A counter seen before, or too old for the replay window.
    case replay
    /// A transport message that reached a data-plane thread other than the one its counter's
    /// lane belongs to (Lane.opens), or names a lane beyond the 16 there can be: the kernel
    /// steers by that byte, so only a datagram merged with another lane's on the way (a NIC's
    /// fraglist GRO), or a forgery, gets here. Refused before any cryptography.
    case wrongLane = "wrong-lane"
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
    /// A read from the TAP or the UDP socket failed: what it would have read is lost.
    case receiveFailed = "receive-failed"
    /// A fragment overlapping another piece of its frame: the frame is dropped.
    case fragmentOverlap = "fragment-overlap"
    /// A fragment reaching past its frame, naming an impossible length, or one piece too many.
    case fragmentOversized = "fragment-oversized"
    /// A split frame not complete within the reassembly timeout.
    case reassemblyTimeout = "reassembly-timeout"
    /// A split frame given up to make room: every reassembly slot was in use.
    case reassemblyFull = "reassembly-full"
    /// A broadcast frame beyond the storm-control rate, from the LAN or from the peer.
    case stormBroadcast = "storm-broadcast"
    /// A multicast frame beyond the storm-control rate (link-local control frames never are).
    case stormMulticast = "storm-multicast"
    /// A unicast frame to an unknown address beyond the storm-control rate.
    case stormUnknownUnicast = "storm-unknown-unicast"
    /// A frame from the peer whose source address was seen on this LAN within the hold time:
    /// a hijack, or a loop. The address stays where it is.
    case macConflict = "mac-conflict"
    /// A frame from the peer whose source address the full MAC table could not learn: not
    /// delivered, so a flood of addresses from afar cannot fill this LAN's bridges either.
    case macUnlearnable = "mac-unlearnable"
    /// A frame from the peer whose source address keeps moving between this LAN and the peer:
    /// damped for a while, as a loop without spanning tree makes it move.
    case macFlapping = "mac-flapping"

    /// The reason's place in `allCases`, where `DropCounts` keeps its count. A case without a
    /// payload is stored as its declaration-order tag (Swift's layout for such enums), so this
    /// is free on the frame path, where a switch or a lookup would cost; DropCountsTests checks
    /// it against `allCases`.
    @inlinable
    public var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}
