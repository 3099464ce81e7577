import CausewayCore
import CNetlink
import Glibc

/// One entry of the kernel's neighbour tables: an IPv4 ARP or IPv6 ND entry (`ip neigh`), or
/// a bridge forwarding-database entry (`bridge fdb`).
public struct NeighbourEntry: Sendable, Equatable {
    public var family: Int32
    /// The device the entry is on: for the bridge's database, the bridge port.
    public var interfaceIndex: Int32
    /// NUD_* bits: NUD_PERMANENT for a device's own address in the bridge's database.
    public var state: UInt16
    public var linkAddress: MACAddress?
    /// The IP address (4 or 16 bytes), for ARP and ND entries.
    public var destination: [UInt8]?
    /// The bridge a port's database entry belongs to.
    public var masterIndex: Int32?

    /// Whether the IP entry says where the address is now or was lately (not a failed or
    /// unfinished resolution).
    public var isResolved: Bool {
        state & UInt16(NUD_FAILED | NUD_INCOMPLETE) == 0 && linkAddress != nil
    }
}

extension Netlink {
    /// Attribute slots for nlmsg_parse: NDA_* types stay well below this.
    static let neighbourAttributeSlots = 32

    /// One dump of the neighbour table of `family` (AF_INET, AF_INET6 or AF_BRIDGE) across
    /// every device of this namespace. For the control thread, when a client asks: never on
    /// the data plane.
    public func neighbours(family: Int32) throws -> [NeighbourEntry] {
        let collector = NeighbourCollector()
        var request = ndmsg()
        request.ndm_family = UInt8(family)
        var result = nl_send_simple(socket, Int32(RTM_GETNEIGH), NLM_F_DUMP, &request, MemoryLayout<ndmsg>.size)
        guard result >= 0 else { throw NetlinkError(operation: "dump the neighbour table", code: result) }
        let context = Unmanaged.passUnretained(collector).toOpaque()
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, { message, context in
            guard let message, let context else { return Int32(NL_OK.rawValue) }
            Unmanaged<NeighbourCollector>.fromOpaque(context).takeUnretainedValue().take(message)
            return Int32(NL_OK.rawValue)
        }, context)
        result = withExtendedLifetime(collector) { nl_recvmsgs_default(socket) }
        // The callback's context dies with this call: nothing may call it afterwards.
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_DEFAULT, nil, nil)
        guard result >= 0 else { throw NetlinkError(operation: "read the neighbour table", code: result) }
        return collector.entries
    }
}

/// Gathers the entries of one dump, in libnl's callback.
private final class NeighbourCollector {
    var entries: [NeighbourEntry] = []
    /// A bound on what one answer holds, whatever a flood made of the kernel's tables.
    static let limit = 65_536

    func take(_ message: OpaquePointer) {
        guard entries.count < Self.limit, let header = nlmsg_hdr(message) else { return }
        var attributes = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: Netlink.neighbourAttributeSlots)
        guard nlmsg_parse(header, Int32(MemoryLayout<ndmsg>.size), &attributes, Int32(Netlink.neighbourAttributeSlots - 1), nil) == 0
        else { return }
        let message = nlmsg_data(header).assumingMemoryBound(to: ndmsg.self).pointee
        var entry = NeighbourEntry(family: Int32(message.ndm_family), interfaceIndex: message.ndm_ifindex, state: message.ndm_state)
        if let address = attributes[NDA_LLADDR], nla_len(address) == 6 {
            entry.linkAddress = MACAddress(bytes: UnsafeRawBufferPointer(start: nla_data(address), count: 6), offset: 0)
        }
        if let destination = attributes[NDA_DST], [4, 16].contains(nla_len(destination)) {
            entry.destination = Array(UnsafeRawBufferPointer(start: nla_data(destination), count: Int(nla_len(destination))))
        }
        if let master = attributes[NDA_MASTER], nla_len(master) >= 4 {
            entry.masterIndex = Int32(bitPattern: nla_get_u32(master))
        }
        entries.append(entry)
    }
}

/// IP addresses as text and back, through inet_pton and inet_ntop.
public enum IPAddressText {
    /// The 4 or 16 bytes of an IPv4 or IPv6 address written as text; nil when it is not one.
    public static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The usual text of a 4- or 16-byte address.
    public static func text(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        return ok ? String(cString: buffer) : "?"
    }
}
