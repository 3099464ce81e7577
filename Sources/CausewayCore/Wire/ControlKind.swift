/// The kinds of control message, carried as the first byte of the sealed payload.
public enum ControlKind: UInt8, Sendable {
    /// Carries the sender's monotonic clock; answered by `keepaliveReply` for a round-trip time.
    case keepalive = 1
    case keepaliveReply = 2
    /// Padded to the size under test; answered by `probeAck` naming that size.
    case probe = 3
    case probeAck = 4
}
