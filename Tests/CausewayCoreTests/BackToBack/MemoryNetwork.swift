@testable import CausewayCore

/// A WAN in memory between `MemorySocket`s: every datagram sent is copied into the
/// receiving socket's queue, unless the network drops it. It can lose datagrams, refuse
/// ones larger than the sender's device takes (EMSGSIZE, as a NIC's MTU does), and swallow
/// ones larger than a middle link carries (a black hole: no error, no ICMP).
final class MemoryNetwork {
    /// Headers the WAN adds to a datagram: IPv4 and UDP.
    static let headerOverhead = 28

    private var sockets: [MemorySocket] = []
    /// The largest IP packet the senders' devices take.
    var deviceMTU = 1500
    /// The largest IP packet that crosses the path; larger ones vanish.
    var pathMTU = 1500
    /// Drops a datagram when it returns true; nil loses nothing.
    var loses: ((_ datagram: UnsafeRawBufferPointer) -> Bool)?
    private(set) var delivered = 0
    private(set) var lost = 0
    private(set) var blackHoled = 0

    /// A socket at `address` on this network.
    func socket(at address: EndpointAddress) -> MemorySocket {
        let socket = MemorySocket(network: self, address: address, index: sockets.count)
        sockets.append(socket)
        return socket
    }

    func address(of index: UInt64) -> EndpointAddress { sockets[Int(index)].address }

    /// Carries one datagram from `source` towards `destination`.
    func transmit(_ datagram: UnsafeRawBufferPointer, from source: MemorySocket, to destination: EndpointAddress) -> IOResult {
        guard datagram.count + Self.headerOverhead <= deviceMTU else { return .tooLarge }
        if datagram.count + Self.headerOverhead > pathMTU {
            blackHoled += 1
            return .completed(datagram.count)
        }
        if let loses, loses(datagram) {
            lost += 1
            return .completed(datagram.count)
        }
        // Sockets at one address are one port's lanes: the datagram goes to the one the
        // kernel's steering program picks (UDPSocket.steerByLane), counted in the order they
        // were made. Plain loops: this runs inside the allocation test's window.
        var group = 0
        for receiver in sockets where receiver.address == destination { group += 1 }
        var chosen = group > 1 ? Self.steeredLane(datagram, lanes: group) : 0
        for receiver in sockets where receiver.address == destination {
            if chosen == 0 {
                guard receiver.enqueue(datagram, from: source) else { break }
                delivered += 1
                return .completed(datagram.count)
            }
            chosen -= 1
        }
        lost += 1
        return .completed(datagram.count)
    }

    /// What UDPSocket's steering program computes: a transport message's sending lane (its
    /// counter's top byte) modulo the lanes; lane 0 for the rest and for what is too short.
    static func steeredLane(_ datagram: UnsafeRawBufferPointer, lanes: Int) -> Int {
        guard datagram.count > WireFormat.counterOffset,
              let type = WireFormat.MessageType(rawValue: datagram[WireFormat.typeOffset]),
              type == .data || type == .control || type == .fragment
        else { return 0 }
        return Int(datagram[WireFormat.counterOffset]) % lanes
    }
}

/// A UDP socket on a `MemoryNetwork`: the stand-in for UDPSocket, as wireguard-go's tests
/// have a channel bind. Send slots and the receive queue are allocated once.
final class MemorySocket: DatagramSocket {
    let address: EndpointAddress
    private let index: Int
    private unowned let network: MemoryNetwork
    private let slots: UnsafeMutableRawBufferPointer
    private var prepared: [(length: Int, destination: EndpointAddress)]
    private let inbound = SlotRing(capacity: 1024, slotSize: WireFormat.maximumDatagramLength + 64)
    static let sendSlotCount = 64
    var sendSlotCount: Int { Self.sendSlotCount }
    let receiveBatchCapacity = 64
    private(set) var datagramsSent = 0

    init(network: MemoryNetwork, address: EndpointAddress, index: Int) {
        self.network = network
        self.address = address
        self.index = index
        slots = .allocate(byteCount: Self.sendSlotCount * DataPath.sendSlotSize, alignment: 16)
        prepared = Array(repeating: (0, address), count: Self.sendSlotCount)
    }

    deinit { slots.deallocate() }

    func enqueue(_ datagram: UnsafeRawBufferPointer, from source: MemorySocket) -> Bool {
        inbound.push(datagram, extra: UInt64(source.index))
    }

    func sendSlot(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: slots[(slot * DataPath.sendSlotSize)..<((slot + 1) * DataPath.sendSlotSize)])
    }

    func prepare(_ slot: Int, length: Int, to destination: EndpointAddress) {
        prepared[slot] = (length, destination)
    }

    func flush(_ count: Int) -> BatchSendResult {
        var result = BatchSendResult()
        for slot in 0..<count {
            let (length, destination) = prepared[slot]
            switch send(UnsafeRawBufferPointer(rebasing: sendSlot(slot)[0..<length]), to: destination) {
            case .completed: result.sent += 1
            case .tooLarge:
                result.failed += 1
                result.tooLargeLength = length
            case .wouldBlock, .failed: result.failed += 1
            }
        }
        return result
    }

    func send(_ datagram: UnsafeRawBufferPointer, to destination: EndpointAddress) -> IOResult {
        datagramsSent += 1
        return network.transmit(datagram, from: self, to: destination)
    }

    func receive(_ body: (UnsafeRawBufferPointer, EndpointAddress) -> Void) -> IOResult {
        var received = 0
        while received < receiveBatchCapacity, let (datagram, source) = inbound.peek() {
            body(datagram, network.address(of: source))
            inbound.removeFirst()
            received += 1
        }
        return received == 0 ? .wouldBlock : .completed(received)
    }
}
