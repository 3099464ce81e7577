import CausewayCore

/// A reason the bridge could not be set up, in the operator's terms.
public struct AttachmentError: Error, CustomStringConvertible {
    /// The configuration key whose value is the problem.
    public let key: Configuration.Key
    public let problem: String

    init(_ problem: String, key: Configuration.Key) {
        self.problem = problem
        self.key = key
    }

    public var description: String { "key '\(key.rawValue)': \(problem)" }
}

/// The bridge, the TAP and the LAN NIC joined as the configuration asks, and everything
/// needed to put the system back as it was.
///
/// Each step that changes the system pushes its undo onto a journal. A failure part-way
/// runs the journal backwards before the error propagates, and `detach()` runs it on a
/// normal stop: a bridge that existed before is left as it was, one created here is removed
/// after the NIC is taken back out of it, and the TAP goes with its file descriptor.
///
/// A bridge created here carries a `BridgeMark` in its alias. A daemon killed before it
/// could undo leaves that bridge behind; the next start finds the mark, takes the bridge as
/// its own (`reclaimedBridge`) and removes it on stop as if it had created it.
public final class BridgeAttachment: @unchecked Sendable {
    /// The tunnel port's spanning-tree path cost: 802.1D's cost of a 10 Mbit/s link, ten
    /// times a 100 Mbit/s one's and fifty times a 10 Gbit/s one's (the kernel's defaults).
    public static let tunnelPathCost: UInt32 = 100

    public let tap: TAPDevice
    public let bridgeName: String
    /// True when the bridge is causewayd's to remove on stop: created now, or reclaimed.
    public let createdBridge: Bool
    /// True when the bridge was left by an earlier causewayd that did not stop cleanly.
    public let reclaimedBridge: Bool
    /// The NIC's addresses and routes now on the bridge (`migrate-addresses`), for the log.
    public private(set) var migrated: [String] = []
    private let netlink: Netlink
    private var undo: [(description: String, action: () throws -> Void)]

    /// Checks the configured devices without changing anything.
    /// `heldByRunningInstance`: a causewayd of this configuration runs now, so its TAP exists
    /// (`causewayd check` on a live gateway, before a reload).
    public static func preflight(_ configuration: Configuration, netlink: Netlink, heldByRunningInstance: Bool = false) throws {
        guard try netlink.link(named: configuration.lanInterface) != nil else {
            throw AttachmentError("'\(configuration.lanInterface)' does not exist", key: .lanInterface)
        }
        if !heldByRunningInstance, try netlink.link(named: configuration.tap) != nil {
            throw AttachmentError("'\(configuration.tap)' already exists; name a device causewayd can create", key: .tap)
        }
        if let bridge = try netlink.link(named: configuration.bridge), !bridge.isBridge {
            throw AttachmentError("'\(configuration.bridge)' exists and is not a bridge (it is \(bridge.kind ?? "a plain device"))", key: .bridge)
        }
        if let nic = try netlink.link(named: configuration.lanInterface), nic.masterIndex != 0 {
            let bridge = try netlink.link(named: configuration.bridge)
            if nic.masterIndex != bridge?.index {
                let master = try netlink.name(ofIndex: nic.masterIndex) ?? "interface \(nic.masterIndex)"
                throw AttachmentError("'\(configuration.lanInterface)' is already a port of '\(master)', not of '\(configuration.bridge)'", key: .lanInterface)
            }
        }
        let addresses = try netlink.addresses(on: configuration.lanInterface)
        if !addresses.isEmpty, !configuration.migrateAddresses {
            let nic = configuration.lanInterface, bridge = configuration.bridge
            throw AttachmentError(
                "'\(nic)' carries \(addresses.map(\.description).joined(separator: ", ")); as a port of '\(bridge)' it would no "
                    + "longer carry this gateway's own traffic, cutting the gateway off its LAN. Either set migrate-addresses = true "
                    + "(causewayd moves them and the routes through them to '\(bridge)', and back on stop), or move them to '\(bridge)' yourself",
                key: .lanInterface
            )
        }
    }

    /// Sets up the devices; on failure nothing it changed is left behind.
    /// `tapQueues`: one per data-plane thread (TAPDevice).
    public init(configuration: Configuration, tapAddress: MACAddress, tapQueues: Int = 1, netlink: Netlink) throws {
        self.netlink = netlink
        bridgeName = configuration.bridge
        undo = []
        do {
            try Self.preflight(configuration, netlink: netlink)
            let bridge = configuration.bridge
            let nic = configuration.lanInterface

            let existingBridge = try netlink.link(named: bridge)
            let nicState = try netlink.link(named: nic)
            let leftMark = existingBridge?.alias.flatMap(BridgeMark.init(alias:))
            reclaimedBridge = leftMark != nil
            createdBridge = existingBridge == nil || reclaimedBridge
            if existingBridge == nil {
                try netlink.createBridge(named: bridge)
                undo.append(("delete bridge \(bridge)", { try netlink.delete(named: bridge) }))
                // Marked before anything else changes, so that a crash from here on leaves a
                // bridge the next start recognises.
                let mark = BridgeMark(tap: configuration.tap, nicThatWasDown: nicState?.isUp == false ? nic : nil)
                try netlink.setAlias(bridge, mark.description)
                // The bridge learns no more addresses than causewayd's table holds: a flood of
                // source addresses on the LAN fills neither. An adopted bridge is left as it is
                // (docs/operations.md says how to set it there).
                try netlink.setLearnedEntryLimit(bridge: bridge, limit: UInt32(configuration.macTableSize))
            } else if let leftMark {
                undo.append(("delete bridge \(bridge)", { try netlink.delete(named: bridge) }))
                // The crashed daemon brought the NIC up; this one puts it back down on stop.
                if leftMark.nicThatWasDown == nic, nicState?.isUp == true {
                    undo.append(("set \(nic) down", { try netlink.setUp(nic, false) }))
                }
            }

            tap = try TAPDevice(name: configuration.tap, queueCount: tapQueues)
            try netlink.setAddress(tap.name, tapAddress)
            try netlink.enslave(tap.name, into: bridge)
            // The tunnel is the expensive path: where spanning tree must block one of two
            // paths between the sites, it blocks the tunnel, never the LAN NIC.
            try netlink.setBridgePortCost(tap.name, cost: Self.tunnelPathCost)

            if nicState?.masterIndex == 0 {
                try netlink.enslave(nic, into: bridge)
                undo.append(("take \(nic) out of \(bridge)", { try netlink.release(nic) }))
            }
            if nicState?.isUp == false {
                try netlink.setUp(nic, true)
                undo.append(("set \(nic) down", { try netlink.setUp(nic, false) }))
            }
            try netlink.setUp(tap.name, true)
            if existingBridge?.isUp != true {
                try netlink.setUp(bridge, true)
                if !createdBridge {
                    undo.append(("set \(bridge) down", { try netlink.setUp(bridge, false) }))
                }
            }
            if configuration.migrateAddresses {
                if reclaimedBridge { try reclaimMigratedAddresses(on: bridge, from: nic) }
                try migrateAddresses(from: nic, to: bridge, nicAddress: nicState?.address)
            }
        } catch {
            _ = Self.run(undo)
            throw error
        }
    }

    /// Moves the NIC's addresses, and the routes through it, to the bridge; the undo moves
    /// them back. A bridge created here takes the NIC's MAC address too, so the LAN hosts'
    /// ARP caches stay right.
    private func migrateAddresses(from nic: String, to bridge: String, nicAddress: MACAddress?) throws {
        let addresses = try netlink.addresses(on: nic)
        guard !addresses.isEmpty else { return }
        let routes = try netlink.routes(via: nic)
        if createdBridge, let nicAddress {
            try netlink.setAddress(bridge, nicAddress)
        }
        let netlink = netlink
        // Journaled first: moving back tolerates a move that stopped half-way.
        undo.append(("move addresses and routes back from \(bridge) to \(nic)", {
            try Self.move(addresses, routes, capturedOn: nic, from: bridge, to: nic, netlink: netlink)
        }))
        try Self.move(addresses, routes, capturedOn: nic, from: nic, to: bridge, netlink: netlink)
        migrated += (addresses + routes).map(\.description)
    }

    /// Journals the return of what a crashed daemon had migrated: a bridge causewayd created
    /// starts with no addresses, so the ones on it now came from the NIC.
    private func reclaimMigratedAddresses(on bridge: String, from nic: String) throws {
        let addresses = try netlink.addresses(on: bridge)
        let routes = try netlink.routes(via: bridge)
        guard !addresses.isEmpty || !routes.isEmpty else { return }
        let netlink = netlink
        undo.append(("move addresses and routes back from \(bridge) to \(nic)", {
            try Self.move(addresses, routes, capturedOn: bridge, from: bridge, to: nic, netlink: netlink)
        }))
        migrated += (addresses + routes).map(\.description)
    }

    private static func move(
        _ addresses: [NetlinkObject], _ routes: [NetlinkObject], capturedOn nic: String,
        from source: String, to target: String, netlink: Netlink
    ) throws {
        for route in routes { try netlink.delete(route: route, capturedVia: nic, through: source) }
        for address in addresses { try netlink.delete(address: address, from: source) }
        for address in addresses { try netlink.add(address: address, to: target) }
        // After the addresses: a gateway must be reachable on the target first.
        for route in routes { try netlink.add(route: route, movingFrom: nic, to: target) }
    }

    /// Puts the system back as it was before `init`; returns what could not be undone.
    /// The TAP itself disappears when this object and its descriptor go.
    public func detach() -> [String] {
        let failures = Self.run(undo)
        undo = []
        return failures
    }

    private static func run(_ journal: [(description: String, action: () throws -> Void)]) -> [String] {
        var failures: [String] = []
        for step in journal.reversed() {
            do {
                try step.action()
            } catch {
                failures.append("\(step.description): \(error)")
            }
        }
        return failures
    }
}
