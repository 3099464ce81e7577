/// Which refused claims of the peer on an address are worth a log line: one per address per
/// minute, so a hijack attempt is named in the log without a flood of addresses becoming a
/// flood of lines. A fixed table, direct-mapped by address: nothing allocates.
public struct RefusedClaims: Sendable {
    /// A claim the peer made on an address that stays where it is, and why.
    public struct Claim: Sendable, Equatable {
        public var address: MACAddress
        public var reason: DropReason
    }

    static let slots = 64
    static let reportInterval = Duration.seconds(60)
    private var addresses = InlineArray<64, UInt64>(repeating: UInt64.max)
    private var reportedAt = InlineArray<64, Moment>(repeating: .zero)
    /// However many addresses the peer claims, at most this many lines a second.
    private var lines = RateLimiter(perSecond: 5, burst: 10)

    public init() {}

    /// Whether a refused claim on `address` should be reported now; if so, it is noted as
    /// reported.
    public mutating func shouldReport(_ address: MACAddress, now: Moment) -> Bool {
        var hasher = Hasher()
        hasher.combine(address.rawValue)
        let slot = hasher.finalize() & (Self.slots - 1)
        if addresses[slot] == address.rawValue, now.since(reportedAt[slot]) < Self.reportInterval { return false }
        guard lines.allow(now: now) else { return false }
        addresses[slot] = address.rawValue
        reportedAt[slot] = now
        return true
    }
}
