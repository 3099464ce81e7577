/// Wall-clock time sealed into a handshake initiation. A responder accepts only initiations
/// newer than the last it accepted, so a recorded initiation cannot be replayed to it; the
/// wall clock, unlike the monotonic one, keeps growing across restarts of the initiator.
public struct HandshakeTimestamp: Comparable, Sendable {
    public var seconds: UInt64
    public var nanoseconds: UInt32

    public init(seconds: UInt64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = HandshakeTimestamp(seconds: 0, nanoseconds: 0)

    public static func < (lhs: HandshakeTimestamp, rhs: HandshakeTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: seconds >> UInt64(56 - 8 * $0)) }
            + (0..<4).map { UInt8(truncatingIfNeeded: nanoseconds >> UInt32(24 - 8 * $0)) }
    }

    init?(bytes: [UInt8]) {
        guard bytes.count == WireFormat.timestampLength else { return nil }
        seconds = bytes[0..<8].reduce(0) { ($0 << 8) | UInt64($1) }
        nanoseconds = bytes[8..<12].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
