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
public final class BridgeAttachment: @unchecked Sendable {
    public let tap: TAPDevice
    public let bridgeName: String
    public let createdBridge: Bool
    private let netlink: Netlink
    private var undo: [(description: String, action: () throws -> Void)]

    /// Checks the configured devices without changing anything.
    public static func preflight(_ configuration: Configuration, netlink: Netlink) throws {
        guard try netlink.link(named: configuration.lanInterface) != nil else {
            throw AttachmentError("'\(configuration.lanInterface)' does not exist", key: .lanInterface)
        }
        if try netlink.link(named: configuration.tap) != nil {
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
    }

    /// Sets up the devices; on failure nothing it changed is left behind.
    public init(configuration: Configuration, tapAddress: MACAddress, netlink: Netlink) throws {
        self.netlink = netlink
        bridgeName = configuration.bridge
        undo = []
        do {
            try Self.preflight(configuration, netlink: netlink)
            let bridge = configuration.bridge
            let nic = configuration.lanInterface

            let existingBridge = try netlink.link(named: bridge)
            createdBridge = existingBridge == nil
            if createdBridge {
                try netlink.createBridge(named: bridge)
                undo.append(("delete bridge \(bridge)", { try netlink.delete(named: bridge) }))
            }

            tap = try TAPDevice(name: configuration.tap)
            try netlink.setAddress(tap.name, tapAddress)
            try netlink.enslave(tap.name, into: bridge)

            let nicState = try netlink.link(named: nic)
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
        } catch {
            _ = Self.run(undo)
            throw error
        }
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
