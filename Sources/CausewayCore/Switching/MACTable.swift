/// Where a learned MAC address lives.
public enum MACLocation: Hashable, Sendable {
    /// On this gateway's LAN: frames to it never cross the WAN.
    case local
    /// Behind the peer gateway with this index (0 while there is one peer).
    case remote(peer: Int)
}

/// A learning MAC table with aging and a hard size cap.
///
/// At the cap, new addresses are not learned (and counted), while known ones keep being
/// refreshed: a flood of random source MACs then cannot evict the hosts that were already
/// there, and frames to unlearned addresses are still delivered, as unknown unicast.
public struct MACTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var location: MACLocation
        public var vlan: UInt16?
        public var learnedAt: Moment
        public var lastSeen: Moment
    }

    public enum LearnOutcome: Sendable, Equatable {
        case refreshed
        case learned
        /// The address was known at another location and now lives here.
        case moved(from: MACLocation)
        /// The table is at its cap; the address was not learned.
        case tableFull
        /// A group address as a source is malformed; it is never learned.
        case ignored
    }

    public let capacity: Int
    public let agingTime: Duration
    private var entries: [MACAddress: Entry]

    public init(capacity: Int, agingTime: Duration) {
        precondition(capacity > 0, "a MAC table holds at least one entry")
        self.capacity = capacity
        self.agingTime = agingTime
        // Reserved up front so that learning on the frame path never grows the storage.
        entries = Dictionary(minimumCapacity: capacity)
    }

    public var count: Int { entries.count }

    /// Records that `address` was seen at `location` now.
    public mutating func learn(_ address: MACAddress, at location: MACLocation, vlan: UInt16?, now: Moment) -> LearnOutcome {
        guard !address.isGroup else { return .ignored }
        if var entry = entries[address], !isExpired(entry, now: now) {
            let previous = entry.location
            entry.lastSeen = now
            entry.vlan = vlan
            if previous != location {
                entry.location = location
                entry.learnedAt = now
                entries[address] = entry
                return .moved(from: previous)
            }
            entries[address] = entry
            return .refreshed
        }
        if entries[address] == nil, entries.count >= capacity {
            return .tableFull
        }
        entries[address] = Entry(location: location, vlan: vlan, learnedAt: now, lastSeen: now)
        return .learned
    }

    /// The live entry for `address`, or nil when it is unknown or aged out.
    public func lookup(_ address: MACAddress, now: Moment) -> Entry? {
        guard let entry = entries[address], !isExpired(entry, now: now) else { return nil }
        return entry
    }

    /// Removes every aged-out entry; returns how many went. Called from a timer, not per frame.
    @discardableResult
    public mutating func removeExpired(now: Moment) -> Int {
        let before = entries.count
        entries = entries.filter { !isExpired($0.value, now: now) }
        entries.reserveCapacity(capacity)
        return before - entries.count
    }

    /// When `entry` stops being valid.
    public func expiry(of entry: Entry) -> Moment { entry.lastSeen + agingTime }

    /// Every live entry, ordered by address, for reports.
    public func snapshot(now: Moment) -> [(address: MACAddress, entry: Entry)] {
        entries.filter { !isExpired($0.value, now: now) }
            .map { (address: $0.key, entry: $0.value) }
            .sorted { $0.address < $1.address }
    }

    private func isExpired(_ entry: Entry, now: Moment) -> Bool {
        expiry(of: entry) <= now
    }
}
