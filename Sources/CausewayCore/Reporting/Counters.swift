/// Every counter the daemon keeps. A plain value: the data plane owns one and publishes copies.
///
/// What each field counts, and its names in status JSON, in the metrics and in the human
/// report, is written once, in `Counters.descriptors` (CounterTable.swift); the JSON coding
/// below and every report are generated from that list.
public struct Counters: Sendable, Equatable {
    // Traffic
    public var framesFromLAN: UInt64 = 0
    public var bytesFromLAN: UInt64 = 0
    public var framesToPeer: UInt64 = 0
    public var bytesToPeer: UInt64 = 0
    public var framesFromPeer: UInt64 = 0
    public var bytesFromPeer: UInt64 = 0
    public var framesToLAN: UInt64 = 0
    public var bytesToLAN: UInt64 = 0
    // Switching
    public var flooded: UInt64 = 0
    public var suppressedLocal: UInt64 = 0
    public var macMoves: UInt64 = 0
    public var macTableFull: UInt64 = 0
    // The link: keepalives and handshakes
    public var keepalivesSent: UInt64 = 0
    public var keepalivesReceived: UInt64 = 0
    public var handshakesInitiated: UInt64 = 0
    public var initiationsReceived: UInt64 = 0
    public var handshakesAnswered: UInt64 = 0
    public var responsesReceived: UInt64 = 0
    public var cookieRepliesSent: UInt64 = 0
    public var cookieRepliesReceived: UInt64 = 0
    public var sessionsEstablished: UInt64 = 0
    // The path: sizes, fragments, offloads
    public var framesFragmented: UInt64 = 0
    public var fragmentsSent: UInt64 = 0
    public var fragmentsReceived: UInt64 = 0
    public var framesReassembled: UInt64 = 0
    public var framesSegmented: UInt64 = 0
    public var framesCoalesced: UInt64 = 0
    public var mssClamped: UInt64 = 0
    public var tooBigSent: UInt64 = 0
    public var pathProbesSent: UInt64 = 0
    public var pathProbesAcknowledged: UInt64 = 0
    /// Drops, one count per reason, in a fixed array.
    public var drops = DropCounts()

    public init() {}

    /// Adds `count` drops for `reason`: one store into a fixed slot, no hashing, no allocation.
    @inlinable
    public mutating func drop(_ reason: DropReason, count: Int = 1) {
        drops[reason] &+= UInt64(truncatingIfNeeded: count)
    }

    /// The drops counted for `reason`.
    @inlinable
    public func drops(_ reason: DropReason) -> UInt64 { drops[reason] }

    /// Adds every count of `other` (a peer's, into the gateway's totals).
    public mutating func add(_ other: Counters) {
        combine(other, &+)
    }

    /// Takes every count of `other` away (a peer's part, out of the gateway's totals).
    public mutating func subtract(_ other: Counters) {
        combine(other, &-)
    }

    private mutating func combine(_ other: Counters, _ operation: (UInt64, UInt64) -> UInt64) {
        for descriptor in Counters.descriptors {
            self[keyPath: descriptor.field] = operation(self[keyPath: descriptor.field], other[keyPath: descriptor.field])
        }
        for reason in DropReason.allCases {
            drops[reason] = operation(drops[reason], other.drops[reason])
        }
    }
}

/// Status JSON: one key per descriptor, and `drops` as an object keyed by reason, the shape
/// scripts and causewayctl read.
extension Counters: Codable {
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: NameKey.self)
        // A key missing (a daemon older than this client) reads as zero.
        for descriptor in Counters.descriptors {
            self[keyPath: descriptor.field] = try container.decodeIfPresent(UInt64.self, forKey: NameKey(descriptor.key)) ?? 0
        }
        drops = try container.decodeIfPresent(DropCounts.self, forKey: NameKey(Counters.dropDescriptor.key)) ?? DropCounts()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: NameKey.self)
        for descriptor in Counters.descriptors {
            try container.encode(self[keyPath: descriptor.field], forKey: NameKey(descriptor.key))
        }
        try container.encode(drops, forKey: NameKey(Counters.dropDescriptor.key))
    }
}

/// A JSON key given by name at run time: the counters' names come from their descriptors.
struct NameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { nil }
}
