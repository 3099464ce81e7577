import CNetlink
import Glibc

extension Netlink {
    /// Sets the spanning-tree path cost of bridge port `port` (IFLA_BRPORT_COST). libnl-route
    /// has no change request for a port's settings, so the message is built with libnl's own
    /// message API: RTM_SETLINK for family AF_BRIDGE, the cost nested in IFLA_PROTINFO, as
    /// the kernel's br_setlink reads it.
    public func setBridgePortCost(_ port: String, cost: UInt32) throws {
        guard let link = try link(named: port) else {
            throw NetlinkError(operation: "set the path cost of \(port)", code: -NLE_OBJ_NOTFOUND)
        }
        guard let message = nlmsg_alloc_simple(Int32(RTM_SETLINK), NLM_F_REQUEST | NLM_F_ACK) else {
            throw NetlinkError(operation: "set the path cost of \(port)", code: -NLE_NOMEM)
        }
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_BRIDGE)
        header.ifi_index = link.index
        var built = nlmsg_append(message, &header, MemoryLayout<ifinfomsg>.size, Int32(NLMSG_ALIGNTO)) == 0
        let nest = nla_nest_start(message, Int32(IFLA_PROTINFO) | Int32(NLA_F_NESTED))
        built = built && nest != nil && nla_put_u32(message, Int32(IFLA_BRPORT_COST), cost) == 0
        if let nest { built = built && nla_nest_end(message, nest) == 0 }
        guard built else {
            nlmsg_free(message)
            throw NetlinkError(operation: "set the path cost of \(port)", code: -NLE_NOMEM)
        }
        // nl_send_sync frees the message and waits for the kernel's acknowledgement.
        let result = nl_send_sync(socket, message)
        guard result >= 0 else { throw NetlinkError(operation: "set the path cost of \(port)", code: result) }
    }

    /// IFLA_BR_FDB_MAX_LEARNED (Linux 6.8): the uapi headers this builds against are older.
    static let bridgeLearnedEntryLimitAttribute: Int32 = 49

    /// Caps how many addresses bridge `bridge` learns (its fdb_max_learned), so a flood of
    /// source addresses on a LAN port cannot grow the kernel's table without end either.
    /// A kernel before 6.8 ignores the attribute, as it ignores every attribute it does not
    /// know in a link's data.
    public func setLearnedEntryLimit(bridge: String, limit: UInt32) throws {
        let operation = "limit the addresses \(bridge) learns"
        guard let link = try link(named: bridge) else { throw NetlinkError(operation: operation, code: -NLE_OBJ_NOTFOUND) }
        guard let message = nlmsg_alloc_simple(Int32(RTM_NEWLINK), NLM_F_REQUEST | NLM_F_ACK) else {
            throw NetlinkError(operation: operation, code: -NLE_NOMEM)
        }
        var header = ifinfomsg()
        header.ifi_index = link.index
        var built = nlmsg_append(message, &header, MemoryLayout<ifinfomsg>.size, Int32(NLMSG_ALIGNTO)) == 0
        let info = nla_nest_start(message, Int32(IFLA_LINKINFO))
        built = built && info != nil && nla_put_string(message, Int32(IFLA_INFO_KIND), "bridge") == 0
        let data = nla_nest_start(message, Int32(IFLA_INFO_DATA))
        built = built && data != nil && nla_put_u32(message, Self.bridgeLearnedEntryLimitAttribute, limit) == 0
        if let data { built = built && nla_nest_end(message, data) == 0 }
        if let info { built = built && nla_nest_end(message, info) == 0 }
        guard built else {
            nlmsg_free(message)
            throw NetlinkError(operation: operation, code: -NLE_NOMEM)
        }
        let result = nl_send_sync(socket, message)
        guard result >= 0 else { throw NetlinkError(operation: operation, code: result) }
    }

    /// Whether the bridge runs the kernel's spanning tree (its stp_state), or nil when that
    /// cannot be read. Read from sysfs: libnl-route does not report it.
    public static func runsSpanningTree(bridge: String) -> Bool? {
        let descriptor = open("/sys/class/net/\(bridge)/bridge/stp_state", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var state: UInt8 = 0
        guard read(descriptor, &state, 1) == 1 else { return nil }
        return state != UInt8(ascii: "0")
    }
}
