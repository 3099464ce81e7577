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
        var bytes = [UInt8](repeating: 0, count: WireFormat.timestampLength)
        bytes.withUnsafeMutableBytes { out in
            out.storeBigEndian(seconds, at: 0)
            out.storeBigEndian(nanoseconds, at: 8)
        }
        return bytes
    }

    init?(bytes: [UInt8]) {
        guard bytes.count == WireFormat.timestampLength else { return nil }
        (seconds, nanoseconds) = bytes.withUnsafeBytes { ($0.loadBigEndian(at: 0, as: UInt64.self), $0.loadBigEndian(at: 8, as: UInt32.self)) }
    }
}
