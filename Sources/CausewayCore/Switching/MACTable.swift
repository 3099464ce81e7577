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
///
/// The storage is an open-addressing hash table in two arrays allocated once at init: at
/// least twice as many slots as the cap (a power of two), so a probe for any address ends
/// within a short run of slots; linear probing; deletion by backward shift, so no tombstones
/// pile up and expiry removes entries in place. Learning, lookup and expiry never allocate.
///
/// Source MACs are chosen by whoever sends a frame, on either LAN: the slot of an address is
/// SipHash under the process's random seed (Swift's `Hasher`), so nobody can pick addresses
/// that pile into one run, and no address is ever stored further than `maximumProbe` slots
/// from its home, so no probe is ever longer, whatever the table holds.
public struct MACTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var location: MACLocation
        public var vlan: UInt16?
        public var learnedAt: Moment
        public var lastSeen: Moment
        /// Moves between locations counted since `flapWindowStart`, to find a flapping address.
        var flapMoves: UInt8 = 0
        var flapWindowStart = Moment.zero
        /// Until then, the peer's claims on this address are refused (a loop made it flap).
        var dampedUntil = Moment.zero
        /// When the other lanes were last told of this address (`shareInterval`).
        var sharedAt = Moment.zero

        /// What a vacant slot holds; never read as an entry.
        static let vacant = Entry(location: .local, vlan: nil, learnedAt: .zero, lastSeen: .zero)
    }

    public enum LearnOutcome: Sendable, Equatable {
        case refreshed
        /// Refreshed, and the other lanes were last told of it `shareInterval` ago or more.
        case refreshedToShare
        case learned
        /// The address was known at another location and now lives here.
        case moved(from: MACLocation)
        /// The table is at its cap; the address was not learned.
        case tableFull
        /// A group address as a source is malformed; it is never learned.
        case ignored
        /// The peer claimed an address seen on this LAN within the hold time; it stays local.
        case conflict
        /// The peer claimed an address that has been flapping; refused until the damping ends.
        case damped
    }

    /// More moves than this within `flapWindow` make an address flap.
    static let flapLimit: UInt8 = 4
    static let flapWindow = Duration.seconds(1)
    /// How long a flapping address is refused to the peer.
    public static let dampingTime = Duration.seconds(10)

    /// The most addresses the table holds.
    public let capacity: Int
    /// How long an address stays without being seen again.
    /// How long an address is kept without traffic from it; a reload may change it.
    public var agingTime: Duration
    /// With several lanes, each keeping its own table: how often an address a lane keeps
    /// seeing is passed on again, so that the other lanes' entries do not age out while it
    /// is alive. Nil with one lane.
    public var shareInterval: Duration?
    /// Addresses held, including any aged out since the last `removeExpired`.
    public private(set) var count = 0

    /// The address in each slot (its raw value), or `vacantKey`.
    private var keys: [UInt64]
    /// The entry of the address in the same slot of `keys`.
    private var entries: [Entry]
    private let slotMask: Int

    /// Never a key: addresses have 48 bits.
    private static let vacantKey = UInt64.max
    /// The furthest from its home slot an address is stored; past it, it is not learned.
    static let maximumProbe = 32

    public init(capacity: Int, agingTime: Duration) {
        precondition(capacity > 0, "a MAC table holds at least one entry")
        self.capacity = capacity
        self.agingTime = agingTime
        // A load of at most one half keeps probe runs short, and leaves a vacant slot to end
        // every probe.
        let slotCount = 1 << (Int.bitWidth - (2 * capacity - 1).leadingZeroBitCount)
        slotMask = slotCount - 1
        keys = Array(repeating: Self.vacantKey, count: slotCount)
        entries = Array(repeating: .vacant, count: slotCount)
    }

    /// Records that `address` was seen at `location` now. A claim from a peer is input to
    /// check, not a fact: on an address seen on this LAN less than `holdTime` ago it is a
    /// conflict, and on a flapping address it is damped; neither changes the entry.
    public mutating func learn(
        _ address: MACAddress, at location: MACLocation, vlan: UInt16?, now: Moment, holdTime: Duration = .zero
    ) -> LearnOutcome {
        guard !address.isGroup else { return .ignored }
        // A run crowded past `maximumProbe` counts as full: refused, as at the cap.
        guard let (slot, found) = probe(address.rawValue) else { return .tableFull }
        var fresh = Entry(location: location, vlan: vlan, learnedAt: now, lastSeen: now)
        fresh.sharedAt = now
        if found {
            // An aged-out entry not yet swept still holds its slot: learned afresh, in place.
            guard !isExpired(entries[slot], now: now) else {
                entries[slot] = fresh
                return .learned
            }
            let previous = entries[slot].location
            if case .remote = location {
                if entries[slot].dampedUntil > now { return .damped }
                if previous == .local, now.since(entries[slot].lastSeen) < holdTime { return .conflict }
            }
            entries[slot].lastSeen = now
            entries[slot].vlan = vlan
            guard previous != location else {
                guard let shareInterval, now.since(entries[slot].sharedAt) >= shareInterval else { return .refreshed }
                entries[slot].sharedAt = now
                return .refreshedToShare
            }
            entries[slot].location = location
            entries[slot].learnedAt = now
            entries[slot].sharedAt = now
            noteMove(slot, now: now)
            return .moved(from: previous)
        }
        guard count < capacity else { return .tableFull }
        keys[slot] = address.rawValue
        entries[slot] = fresh
        count += 1
        return .learned
    }

    /// The live entry for `address`, or nil when it is unknown or aged out.
    public func lookup(_ address: MACAddress, now: Moment) -> Entry? {
        guard let (slot, found) = probe(address.rawValue), found, !isExpired(entries[slot], now: now) else { return nil }
        return entries[slot]
    }

    /// Removes every aged-out entry in place; returns how many went. Called from a timer, not
    /// per frame: it visits every slot.
    @discardableResult
    public mutating func removeExpired(now: Moment) -> Int {
        let agingTime = agingTime
        return removeAll { $0.lastSeen + agingTime <= now }
    }

    /// Forgets every address learned from the peer in slot `peer` (removed from the
    /// configuration: its slot may serve another peer next).
    @discardableResult
    public mutating func removeAll(learnedFrom peer: Int) -> Int {
        return removeAll { $0.location == .remote(peer: peer) }
    }

    private mutating func removeAll(where shouldRemove: (Entry) -> Bool) -> Int {
        var removed = 0
        var slot = 0
        while slot < keys.count {
            if keys[slot] != Self.vacantKey, shouldRemove(entries[slot]) {
                vacate(slot)
                removed += 1
                // The shift may have moved a later entry of the run into this slot: look again.
                // An entry can only move backwards into the hole, never past the slots still to
                // visit, so each one is seen.
            } else {
                slot += 1
            }
        }
        count -= removed
        return removed
    }

    /// Records that this site's own bridge saw `address` on one of its LAN ports at `seenAt`
    /// (it learned it there; Causeway never saw the frame). Such an address is local as of
    /// then: a peer's claim on it within the hold time is a conflict, whether or not any of
    /// its frames ever reached the tunnel.
    public mutating func noteSeenOnLAN(_ address: MACAddress, at seenAt: Moment, now: Moment) -> LearnOutcome {
        guard !address.isGroup, let (slot, found) = probe(address.rawValue) else { return .ignored }
        if found, !isExpired(entries[slot], now: now) {
            guard seenAt > entries[slot].lastSeen else { return .refreshed }
            let previous = entries[slot].location
            entries[slot].lastSeen = seenAt
            guard previous != .local else { return .refreshed }
            entries[slot].location = .local
            entries[slot].learnedAt = seenAt
            noteMove(slot, now: now)
            return .moved(from: previous)
        }
        guard found || count < capacity else { return .tableFull }
        if !found {
            keys[slot] = address.rawValue
            count += 1
        }
        entries[slot] = Entry(location: .local, vlan: nil, learnedAt: seenAt, lastSeen: seenAt)
        return .learned
    }

    /// Counts a move of the entry in `slot`; past `flapLimit` in one window it is damped.
    private mutating func noteMove(_ slot: Int, now: Moment) {
        if now.since(entries[slot].flapWindowStart) >= Self.flapWindow {
            entries[slot].flapWindowStart = now
            entries[slot].flapMoves = 0
        }
        entries[slot].flapMoves &+= 1
        if entries[slot].flapMoves > Self.flapLimit {
            entries[slot].dampedUntil = now + Self.dampingTime
        }
    }

    /// When `entry` stops being valid.
    public func expiry(of entry: Entry) -> Moment { entry.lastSeen + agingTime }

    /// Every live entry, in no particular order. For reports on the control side, which sort
    /// and format them there; the data plane never calls this.
    public func liveEntries(now: Moment) -> [(address: MACAddress, entry: Entry)] {
        var rows: [(address: MACAddress, entry: Entry)] = []
        rows.reserveCapacity(count)
        for slot in keys.indices where keys[slot] != Self.vacantKey && !isExpired(entries[slot], now: now) {
            rows.append((MACAddress(rawValue: keys[slot]), entries[slot]))
        }
        return rows
    }

    /// A copy with storage of its own, taken for a report. A plain copy would share the
    /// arrays, and the owner's next `learn` would then copy them in the middle of a batch of
    /// frames; this copies them here, when the report is asked for.
    public func detachedCopy() -> MACTable {
        var copy = self
        copy.keys = keys.withUnsafeBufferPointer { Array($0) }
        copy.entries = entries.withUnsafeBufferPointer { Array($0) }
        return copy
    }

    /// Adds what `other` holds that this table does not, and takes `other`'s entry where it
    /// was seen later: the union of the tables of a gateway's lanes, each of which keeps its
    /// own, for a report. What finds no room (past the cap) is left out.
    public mutating func absorb(_ other: MACTable) {
        for slot in other.keys.indices where other.keys[slot] != Self.vacantKey {
            let key = other.keys[slot]
            guard let (mine, found) = probe(key) else { continue }
            if found {
                if other.entries[slot].lastSeen > entries[mine].lastSeen { entries[mine] = other.entries[slot] }
            } else if count < capacity {
                keys[mine] = key
                entries[mine] = other.entries[slot]
                count += 1
            }
        }
    }

    // MARK: - Slots

    /// The slot a probe for `key` starts at.
    func homeSlot(of key: UInt64) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return hasher.finalize() & slotMask
    }

    /// The slot holding `key` (found), or else the vacant slot where it would go; nil when
    /// neither is within `maximumProbe` slots of its home.
    private func probe(_ key: UInt64) -> (slot: Int, found: Bool)? {
        var slot = homeSlot(of: key)
        for _ in 0..<Self.maximumProbe {
            let held = keys[slot]
            if held == key { return (slot, true) }
            if held == Self.vacantKey { return (slot, false) }
            slot = (slot + 1) & slotMask
        }
        return nil
    }

    /// Empties `slot` and shifts later entries of its run back into the hole, so that every
    /// entry stays reachable from its home slot without tombstones.
    private mutating func vacate(_ slot: Int) {
        var hole = slot
        var next = (slot + 1) & slotMask
        while keys[next] != Self.vacantKey {
            let home = homeSlot(of: keys[next])
            // The entry may fill the hole unless its home lies after the hole, up to `next`
            // (cyclically): it must not move before the slot its probes start at.
            if (next &- home) & slotMask >= (next &- hole) & slotMask {
                keys[hole] = keys[next]
                entries[hole] = entries[next]
                hole = next
            }
            next = (next + 1) & slotMask
        }
        keys[hole] = Self.vacantKey
        entries[hole] = .vacant
    }

    private func isExpired(_ entry: Entry, now: Moment) -> Bool {
        expiry(of: entry) <= now
    }
}
