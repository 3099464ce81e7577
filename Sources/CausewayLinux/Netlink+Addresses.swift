import CNetlink
import Glibc

/// An IP address or route as the kernel reported it, kept as libnl's own object so that it
/// can be re-created on another device with every attribute intact (scope, flags, metric,
/// protocol, table, gateway).
public final class NetlinkObject: @unchecked Sendable, CustomStringConvertible {
    fileprivate let object: OpaquePointer
    public let description: String

    fileprivate init(cloning original: OpaquePointer, description: String) throws {
        guard let copy = nl_object_clone(original) else { throw NetlinkError(operation: "copy \(description)", code: -NLE_NOMEM) }
        object = copy
        self.description = description
    }

    deinit { nl_object_put(object) }
}

extension Netlink {
    // From <linux/rtnetlink.h>: routes the kernel makes and removes by itself.
    private static let localTable: UInt32 = 255
    private static let kernelProtocol: UInt8 = 2
    private static let routerAdvertisementProtocol: UInt8 = 9
    private static let linkScope: Int32 = 253

    /// The addresses on `device` that a bridge port would lose: all but link-local ones,
    /// which every IPv6 device has and which belong to the device, not the LAN.
    public func addresses(on device: String) throws -> [NetlinkObject] {
        guard let index = try link(named: device)?.index else { return [] }
        return try forEach(cache: { rtnl_addr_alloc_cache(socket, &$0) }, "list addresses of \(device)") { address in
            guard rtnl_addr_get_ifindex(address) == index, rtnl_addr_get_scope(address) != Self.linkScope else { return nil }
            return try NetlinkObject(cloning: address, description: Self.text(rtnl_addr_get_local(address)))
        }
    }

    /// The routes whose next hop leaves through `device`, except those the kernel keeps by
    /// itself (prefix and local routes, routes learned from router advertisements).
    public func routes(via device: String) throws -> [NetlinkObject] {
        guard let index = try link(named: device)?.index else { return [] }
        return try forEach(cache: { rtnl_route_alloc_cache(socket, AF_UNSPEC, 0, &$0) }, "list routes via \(device)") { route in
            let protocolNumber = rtnl_route_get_protocol(route)
            guard rtnl_route_get_table(route) != Self.localTable,
                  protocolNumber != Self.kernelProtocol, protocolNumber != Self.routerAdvertisementProtocol,
                  (0..<rtnl_route_get_nnexthops(route)).contains(where: { rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, $0)) == index })
            else { return nil }
            return try NetlinkObject(cloning: route, description: "\(Self.text(rtnl_route_get_dst(route))) via \(device)")
        }
    }

    /// Adds `address` (taken from another device) to `device`.
    public func add(address: NetlinkObject, to device: String) throws {
        guard let target = try link(named: device) else { throw NetlinkError(operation: "add \(address) to \(device)", code: -NLE_NODEV) }
        let copy = try NetlinkObject(cloning: address.object, description: address.description)
        rtnl_addr_set_ifindex(copy.object, target.index)
        // IPv4 labels start with the device name; the old one would be refused.
        rtnl_addr_set_label(copy.object, device)
        try ignoring(-NLE_EXIST, rtnl_addr_add(socket, copy.object, 0), "add \(address) to \(device)")
    }

    public func delete(address: NetlinkObject, from device: String) throws {
        guard let target = try link(named: device) else { return }
        let copy = try NetlinkObject(cloning: address.object, description: address.description)
        rtnl_addr_set_ifindex(copy.object, target.index)
        rtnl_addr_set_label(copy.object, device)
        try ignoring(-NLE_NOADDR, rtnl_addr_delete(socket, copy.object, 0), "remove \(address) from \(device)")
    }

    /// Adds `route` with each next hop through `from` moved to `to`.
    public func add(route: NetlinkObject, movingFrom from: String, to: String) throws {
        let copy = try moved(route, from: from, to: to)
        try ignoring(-NLE_EXIST, rtnl_route_add(socket, copy.object, NLM_F_CREATE | NLM_F_EXCL), "add route \(route.description) through \(to)")
    }

    /// Deletes `route` as it is through `device` (it was captured through `capturedVia`).
    public func delete(route: NetlinkObject, capturedVia: String, through device: String) throws {
        let copy = try moved(route, from: capturedVia, to: device)
        try ignoring(-NLE_OBJ_NOTFOUND, rtnl_route_delete(socket, copy.object, 0), "delete route \(route.description) through \(device)")
    }

    private func moved(_ route: NetlinkObject, from: String, to: String) throws -> NetlinkObject {
        guard let source = try link(named: from), let target = try link(named: to) else {
            throw NetlinkError(operation: "move route \(route.description) from \(from) to \(to)", code: -NLE_NODEV)
        }
        let copy = try NetlinkObject(cloning: route.object, description: route.description)
        for hop in 0..<rtnl_route_get_nnexthops(copy.object) {
            let nexthop = rtnl_route_nexthop_n(copy.object, hop)
            if rtnl_route_nh_get_ifindex(nexthop) == source.index { rtnl_route_nh_set_ifindex(nexthop, target.index) }
        }
        return copy
    }

    /// Walks a freshly dumped cache; `pick` returns what to keep of each object.
    private func forEach<T>(
        cache allocate: (inout OpaquePointer?) -> Int32, _ operation: String, _ pick: (OpaquePointer) throws -> T?
    ) throws -> [T] {
        var cache: OpaquePointer?
        let result = allocate(&cache)
        guard result >= 0, let cache else { throw NetlinkError(operation: operation, code: result) }
        defer { nl_cache_free(cache) }
        var picked: [T] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if let kept = try pick(current) { picked.append(kept) }
            object = nl_cache_get_next(current)
        }
        return picked
    }

    private func ignoring(_ harmless: Int32, _ result: Int32, _ operation: String) throws {
        guard result >= 0 || result == harmless else { throw NetlinkError(operation: operation, code: result) }
    }

    private static func text(_ address: OpaquePointer?) -> String {
        guard let address else { return "default" }
        var buffer = [CChar](repeating: 0, count: 128)
        return String(cString: nl_addr2str(address, &buffer, buffer.count))
    }
}
