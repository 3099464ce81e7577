/// The switching decision for one gateway: which frames from the LAN need to cross the WAN.
///
/// Frames from a peer are handed to the local bridge, which does its own switching, and, on a
/// hub, relayed to other peers (`relay`); the forwarder learns from them.
public struct Forwarder: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Destination known to be behind the peer in this slot.
        case sendToPeer(Int)
        /// Broadcast, multicast or unknown unicast: sent to the peer, counted as flooded.
        case flood
        /// Destination learned as local: the bridge already delivered it, the WAN never sees it.
        case suppress
    }

    public private(set) var table: MACTable
    /// With several lanes: where this lane's learning goes for the others (LaneBoard).
    private let sharing: (board: LaneBoard, lane: Int)?

    public init(table: MACTable, sharingWith board: LaneBoard? = nil, lane: Int = 0) {
        self.table = table
        sharing = board.map { ($0, lane) }
        if sharing != nil { self.table.shareInterval = table.agingTime / 4 }
    }

    /// Decides for a frame that the bridge handed to the TAP.
    public mutating func frameFromLAN(_ header: EthernetHeader, now: Moment, counters: inout Counters) -> Decision {
        let outcome = table.learn(header.source, at: .local, vlan: header.vlan, now: now)
        Self.count(outcome, into: &counters)
        share(outcome, LearnedAddress(address: header.source, location: .local, vlan: header.vlan, incarnation: 0))
        let location = header.destination.isGroup ? nil : table.lookup(header.destination, now: now)?.location
        return Self.decision(for: header.destination, learnedAt: location)
    }

    /// The decision for a frame to `destination`, given where the table has it (nil: unknown).
    /// `causewayctl explain` asks the same question, so both answer alike.
    @inline(__always)
    public static func decision(for destination: MACAddress, learnedAt location: MACLocation?) -> Decision {
        if destination.isGroup { return .flood }
        switch location {
        case .local: return .suppress
        case .remote(let peer): return .sendToPeer(peer)
        case nil: return .flood
        }
    }

    /// Where a frame from a peer goes, once the forwarder learned from it.
    public enum FromPeer: Sendable, Equatable {
        /// Kept off the LAN, for this reason.
        case refused(DropReason)
        /// To this LAN; `flooded` when its bridge may flood it (`isFlooded`), so it is metered.
        case toLAN(flooded: Bool)
        /// A hub's decision (`relay`).
        case relayed(Relay)
    }

    /// Learns from a frame that arrived from `peer`, whose source address is a claim to check
    /// (`MACTable.learn`), and decides where it goes. An address seen here within `holdTime`,
    /// one that flaps, or one the full table cannot take keeps the frame off the LAN, so the
    /// far side can neither move a host of ours to the tunnel nor fill this LAN's bridges
    /// with addresses. `incarnation` tells the other lanes which peer of the slot it was
    /// (Peer.incarnation).
    ///
    /// One mutating call for the whole decision on purpose: a non-mutating method called on
    /// the data path's stored forwarder copies it first (its table's storage retained and
    /// released), which profiles showed on every frame.
    public mutating func frameFromPeer(
        _ header: EthernetHeader, peer: Int, incarnation: UInt64 = 0, now: Moment, holdTime: Duration, isHub: Bool = false,
        counters: inout Counters
    ) -> FromPeer {
        let outcome = table.learn(header.source, at: .remote(peer: peer), vlan: header.vlan, now: now, holdTime: holdTime)
        Self.count(outcome, into: &counters)
        share(outcome, LearnedAddress(address: header.source, location: .remote(peer: peer), vlan: header.vlan, incarnation: incarnation))
        switch outcome {
        case .conflict: return .refused(.macConflict)
        case .damped: return .refused(.macFlapping)
        case .tableFull: return .refused(.macUnlearnable)
        case .ignored, .learned, .refreshed, .refreshedToShare, .moved: break
        }
        if isHub { return .relayed(relay(to: header.destination, from: peer, now: now)) }
        return .toLAN(flooded: isFlooded(header.destination, now: now))
    }

    /// Passes on to the other lanes an address this lane learned, moved, or keeps seeing.
    @inline(__always)
    private func share(_ outcome: MACTable.LearnOutcome, _ learned: @autoclosure () -> LearnedAddress) {
        guard let sharing else { return }
        switch outcome {
        case .learned, .moved, .refreshedToShare:
            sharing.board.share(learned(), from: sharing.lane)
        case .refreshed, .tableFull, .ignored, .conflict, .damped:
            break
        }
    }

    /// Takes what another lane learned, under the same rules as its own frames: a claim of
    /// the peer's on an address this lane saw on the LAN within `holdTime` stays refused, and
    /// nothing is counted (the lane that saw the frame counted it).
    public mutating func learnFromOtherLane(_ learned: LearnedAddress, now: Moment, holdTime: Duration) {
        _ = table.learn(learned.address, at: learned.location, vlan: learned.vlan, now: now, holdTime: holdTime)
    }

    /// Where a hub sends a frame that came from the peer in slot `source`: to this LAN, to
    /// one other peer, or to both this LAN and every other peer (group or unknown). Never back
    /// to `source`: a frame for an address behind its own sender goes nowhere.
    public enum Relay: Sendable, Equatable {
        case lanOnly
        case peer(Int)
        case lanAndOtherPeers
        case nowhere
    }

    private func relay(to destination: MACAddress, from source: Int, now: Moment) -> Relay {
        if destination.isGroup { return .lanAndOtherPeers }
        switch table.lookup(destination, now: now)?.location {
        case .local: return .lanOnly
        case .remote(let peer): return peer == source ? .nowhere : .peer(peer)
        case nil: return .lanAndOtherPeers
        }
    }

    /// Ages addresses out after `agingTime` from now on, those held already included.
    public mutating func setAgingTime(_ agingTime: Duration) {
        table.agingTime = agingTime
        if sharing != nil { table.shareInterval = agingTime / 4 }
    }

    public mutating func forget(peer: Int) {
        table.removeAll(learnedFrom: peer)
    }

    /// Whether a frame from a peer to `destination` is one this LAN's bridge may flood: group,
    /// or unicast to an address not learned here. One learned behind a peer is on the bridge's
    /// tunnel port, where it goes no further, unless the bridge has forgotten it: metered all
    /// the same. (A hub decides with `relay` instead.)
    private func isFlooded(_ destination: MACAddress, now: Moment) -> Bool {
        destination.isGroup || table.lookup(destination, now: now)?.location != .local
    }

    /// Takes what this site's bridge learned on its LAN ports (`MACTable.noteSeenOnLAN`).
    public mutating func seenOnLAN(_ address: MACAddress, at seenAt: Moment, now: Moment, counters: inout Counters) {
        // Moves count; a full table does not, here: no frame was refused, and the same
        // addresses come back every second while it stays full.
        if case .moved = table.noteSeenOnLAN(address, at: seenAt, now: now) { counters.macMoves &+= 1 }
    }

    public mutating func removeExpired(now: Moment) {
        table.removeExpired(now: now)
    }

    /// Static on purpose: an instance method called with `table.learn(…)` as its argument
    /// holds a copy of `self`, and the table's storage is then copied on every learn.
    private static func count(_ outcome: MACTable.LearnOutcome, into counters: inout Counters) {
        switch outcome {
        case .moved: counters.macMoves &+= 1
        case .tableFull: counters.macTableFull &+= 1
        case .learned, .refreshed, .refreshedToShare, .ignored, .conflict, .damped: break
        }
    }
}
