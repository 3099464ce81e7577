/// The switching decision for one gateway: which frames from the LAN need to cross the WAN.
///
/// Frames from the peer are always handed to the local bridge, which does its own switching;
/// the forwarder only learns from them.
public struct Forwarder: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Destination known to be behind the peer.
        case sendToPeer
        /// Broadcast, multicast or unknown unicast: sent to the peer, counted as flooded.
        case flood
        /// Destination learned as local: the bridge already delivered it, the WAN never sees it.
        case suppress
    }

    public private(set) var table: MACTable

    public init(table: MACTable) {
        self.table = table
    }

    /// Decides for a frame that the bridge handed to the TAP.
    public mutating func frameFromLAN(_ header: EthernetHeader, now: Moment, counters: inout Counters) -> Decision {
        Self.count(table.learn(header.source, at: .local, vlan: header.vlan, now: now), into: &counters)
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
        case .remote: return .sendToPeer
        case nil: return .flood
        }
    }

    /// Learns from a frame that arrived from `peer`, whose source address is a claim to check
    /// (`MACTable.learn`): returns why the frame must not reach the LAN, or nil to deliver it.
    /// An address seen here within `holdTime`, one that flaps, or one the full table cannot
    /// take keeps the frame off the LAN, so the far side can neither move a host of ours to
    /// the tunnel nor fill this LAN's bridges with addresses.
    public mutating func frameFromPeer(
        _ header: EthernetHeader, peer: Int, now: Moment, holdTime: Duration, counters: inout Counters
    ) -> DropReason? {
        let outcome = table.learn(header.source, at: .remote(peer: peer), vlan: header.vlan, now: now, holdTime: holdTime)
        Self.count(outcome, into: &counters)
        switch outcome {
        case .conflict: return .macConflict
        case .damped: return .macFlapping
        case .tableFull: return .macUnlearnable
        case .ignored, .learned, .refreshed, .moved: return nil
        }
    }

    /// Whether a frame from the peer to `destination` is one this LAN's bridge will flood:
    /// group, or unicast to an address not learned here.
    public func isFlooded(_ destination: MACAddress, now: Moment) -> Bool {
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
        case .learned, .refreshed, .ignored, .conflict, .damped: break
        }
    }
}
