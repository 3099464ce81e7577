import CausewayCore
import CNetlink
import Glibc

/// A libnl call that failed, with libnl's own words for why.
public struct NetlinkError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public var description: String {
        "\(operation): \(String(cString: nl_geterror(code)))"
    }
}

/// What the kernel says about one network device.
public struct LinkState: Sendable, Equatable {
    public let name: String
    public let index: Int32
    /// The rtnetlink kind: "bridge", "veth", "tun", … (nil for a plain NIC).
    public let kind: String?
    /// The interface index of the bridge this device is a port of, 0 when none.
    public let masterIndex: Int32
    public let isUp: Bool
    /// The hardware address, for Ethernet-like devices.
    public let address: MACAddress?
    /// The interface alias (IFLA_IFALIAS, `ip link set … alias`), nil when none is set.
    public let alias: String?

    public var isBridge: Bool { kind == "bridge" }
}

/// Every change Causeway makes to links, through libnl-route-3 over one rtnetlink socket.
public final class Netlink: @unchecked Sendable {
    let socket: OpaquePointer

    public init() throws {
        guard let socket = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", code: -NLE_NOMEM) }
        let result = nl_connect(socket, NETLINK_ROUTE)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw NetlinkError(operation: "nl_connect(NETLINK_ROUTE)", code: result)
        }
        self.socket = socket
    }

    deinit { nl_socket_free(socket) }

    /// The device named `name`, or nil when there is none.
    public func link(named name: String) throws -> LinkState? {
        guard let link = try fetch(name) else { return nil }
        defer { rtnl_link_put(link) }
        return LinkState(
            name: name,
            index: rtnl_link_get_ifindex(link),
            kind: rtnl_link_get_type(link).map { String(cString: $0) },
            masterIndex: rtnl_link_get_master(link),
            isUp: rtnl_link_get_flags(link) & UInt32(IFF_UP) != 0,
            address: Self.macAddress(rtnl_link_get_addr(link)),
            alias: rtnl_link_get_ifalias(link).map { String(cString: $0) }
        )
    }

    /// The name of the device with interface index `index`.
    public func name(ofIndex index: Int32) throws -> String? {
        var link: OpaquePointer?
        let result = rtnl_link_get_kernel(socket, index, nil, &link)
        if result == -NLE_OBJ_NOTFOUND || result == -NLE_NODEV { return nil }
        guard result >= 0, let link else { throw NetlinkError(operation: "look up interface \(index)", code: result) }
        defer { rtnl_link_put(link) }
        return rtnl_link_get_name(link).map { String(cString: $0) }
    }

    public func createBridge(named name: String) throws {
        guard let bridge = rtnl_link_bridge_alloc() else { throw NetlinkError(operation: "create bridge \(name)", code: -NLE_NOMEM) }
        defer { rtnl_link_put(bridge) }
        rtnl_link_set_name(bridge, name)
        try check(rtnl_link_add(socket, bridge, NLM_F_CREATE | NLM_F_EXCL), "create bridge \(name)")
    }

    public func delete(named name: String) throws {
        guard let link = try fetch(name) else { return }
        defer { rtnl_link_put(link) }
        try check(rtnl_link_delete(socket, link), "delete \(name)")
    }

    public func enslave(_ port: String, into bridge: String) throws {
        guard let portLink = try link(named: port), let bridgeLink = try link(named: bridge) else {
            throw NetlinkError(operation: "add \(port) to bridge \(bridge)", code: -NLE_NODEV)
        }
        try check(rtnl_link_enslave_ifindex(socket, bridgeLink.index, portLink.index), "add \(port) to bridge \(bridge)")
    }

    public func release(_ port: String) throws {
        guard let portLink = try link(named: port) else { return }
        try check(rtnl_link_release_ifindex(socket, portLink.index), "take \(port) out of its bridge")
    }

    public func setUp(_ name: String, _ up: Bool) throws {
        try change(name, "set \(name) \(up ? "up" : "down")") { change in
            if up {
                rtnl_link_set_flags(change, UInt32(IFF_UP))
            } else {
                rtnl_link_unset_flags(change, UInt32(IFF_UP))
            }
        }
    }

    public func setAddress(_ name: String, _ address: MACAddress) throws {
        var bytes = address.bytes
        guard let nlAddress = nl_addr_build(AF_LLC, &bytes, 6) else {
            throw NetlinkError(operation: "set address of \(name)", code: -NLE_NOMEM)
        }
        defer { nl_addr_put(nlAddress) }
        try change(name, "set address of \(name) to \(address)") { rtnl_link_set_addr($0, nlAddress) }
    }

    /// Sets the interface alias of `name`, the free-text note `ip link` shows as "alias".
    public func setAlias(_ name: String, _ alias: String) throws {
        try change(name, "set alias of \(name) to '\(alias)'") { rtnl_link_set_ifalias($0, alias) }
    }

    private func change(_ name: String, _ operation: String, _ edit: (OpaquePointer) -> Void) throws {
        guard let original = try fetch(name) else { throw NetlinkError(operation: operation, code: -NLE_NODEV) }
        defer { rtnl_link_put(original) }
        guard let change = rtnl_link_alloc() else { throw NetlinkError(operation: operation, code: -NLE_NOMEM) }
        defer { rtnl_link_put(change) }
        edit(change)
        try check(rtnl_link_change(socket, original, change, 0), operation)
    }

    private func fetch(_ name: String) throws -> OpaquePointer? {
        var link: OpaquePointer?
        let result = rtnl_link_get_kernel(socket, 0, name, &link)
        if result == -NLE_OBJ_NOTFOUND || result == -NLE_NODEV { return nil }
        guard result >= 0 else { throw NetlinkError(operation: "look up \(name)", code: result) }
        return link
    }

    private static func macAddress(_ address: OpaquePointer?) -> MACAddress? {
        guard let address, nl_addr_get_len(address) == 6, let bytes = nl_addr_get_binary_addr(address) else { return nil }
        return MACAddress(bytes: UnsafeRawBufferPointer(start: bytes, count: 6), offset: 0)
    }

    private func check(_ result: Int32, _ operation: String) throws {
        guard result >= 0 else { throw NetlinkError(operation: operation, code: result) }
    }
}
