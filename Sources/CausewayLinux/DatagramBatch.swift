import CausewayCore
import CLinuxShim
import Glibc

/// Preallocated buffers, iovecs, addresses and mmsghdrs for one recvmmsg or sendmmsg call.
/// Allocated once when the data plane starts; reused for every batch.
public final class DatagramBatch: @unchecked Sendable {
    public let capacity: Int
    public let slotSize: Int
    private let buffers: UnsafeMutableRawBufferPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    let headers: UnsafeMutablePointer<cw_mmsghdr>
    /// For sending with UDP GSO: one message per run of slots, and where each run starts.
    let runs: UnsafeMutablePointer<cw_mmsghdr>
    let runFirstSlot: UnsafeMutablePointer<Int>
    private let runControl: UnsafeMutableRawPointer
    private let runControlSpace = cw_udp_segment_space()
    /// For receiving: room for each slot's UDP GRO segment size.
    private let receiveControl: UnsafeMutableRawPointer
    private let receiveControlSpace = cw_udp_gro_space()
    /// For receiving: the slots from the first that must be prepared again before the next
    /// receive, the ones the kernel wrote into; all of them before the first.
    var slotsToPrepare: Int

    public init(capacity: Int, slotSize: Int) {
        self.capacity = capacity
        self.slotSize = slotSize
        slotsToPrepare = capacity
        buffers = .allocate(byteCount: capacity * slotSize, alignment: 16)
        iovecs = .allocate(capacity: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: cw_mmsghdr(), count: capacity)
        runs = .allocate(capacity: capacity)
        runs.initialize(repeating: cw_mmsghdr(), count: capacity)
        runFirstSlot = .allocate(capacity: capacity + 1)
        runFirstSlot.initialize(repeating: 0, count: capacity + 1)
        runControl = .allocate(byteCount: capacity * runControlSpace, alignment: 16)
        receiveControl = .allocate(byteCount: capacity * receiveControlSpace, alignment: 16)
        for index in 0..<capacity {
            iovecs[index] = iovec(iov_base: buffers.baseAddress! + index * slotSize, iov_len: slotSize)
            // Sends carry no control data (a GSO request goes in `runs`).
            setHeader(index, control: nil, controlLength: 0)
        }
    }

    deinit {
        buffers.deallocate()
        iovecs.deallocate()
        addresses.deallocate()
        headers.deallocate()
        runs.deallocate()
        runFirstSlot.deallocate()
        runControl.deallocate()
        receiveControl.deallocate()
    }

    /// The whole buffer of slot `index`, to fill before sending.
    @inline(__always)
    public func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers.baseAddress! + index * slotSize, count: slotSize)
    }

    /// Calls `body` with each datagram received into slot `index`: one, or with UDP GRO
    /// several of one size back to back (CoalescedDatagrams).
    @inline(__always)
    public func forEachDatagram(in index: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let received = UnsafeRawBufferPointer(start: buffers.baseAddress! + index * slotSize, count: Int(headers[index].msg_len))
        CoalescedDatagrams.forEach(in: received, segmentSize: Int(cw_udp_gro_segment_size(&headers[index].msg_hdr)), body)
    }

    /// The source of the datagram received into slot `index`.
    @inline(__always)
    public func source(_ index: Int) -> SocketAddress {
        var address = SocketAddress()
        address.storage = addresses[index]
        address.length = headers[index].msg_hdr.msg_namelen
        return address
    }

    /// Prepares slot `index` to send `length` bytes to `destination`.
    @inline(__always)
    public func prepare(_ index: Int, length: Int, to destination: SocketAddress) {
        iovecs[index].iov_len = length
        addresses[index] = destination.storage
        headers[index].msg_hdr.msg_namelen = destination.length
    }

    /// The length of the datagram prepared in slot `index`.
    @inline(__always)
    public func preparedLength(_ index: Int) -> Int { iovecs[index].iov_len }

    /// Groups the first `count` prepared slots into runs (see SegmentRuns), one message
    /// each, a run of more than one slot as a UDP GSO send. Returns how many messages;
    /// message `m` holds slots `runFirstSlot[m]..<runFirstSlot[m + 1]`.
    func arrangeRuns(_ count: Int) -> Int {
        var messages = 0
        var first = 0
        while first < count {
            let length = SegmentRuns.length(
                from: first, count: count, length: { iovecs[$0].iov_len }, sameDestination: sameDestination
            )
            runFirstSlot[messages] = first
            runs[messages].msg_hdr = msghdr(
                msg_name: UnsafeMutableRawPointer(addresses + first), msg_namelen: headers[first].msg_hdr.msg_namelen,
                msg_iov: iovecs + first, msg_iovlen: length,
                msg_control: nil, msg_controllen: 0, msg_flags: 0
            )
            if length > 1 {
                cw_request_udp_segments(
                    &runs[messages].msg_hdr, runControl + messages * runControlSpace, UInt16(iovecs[first].iov_len)
                )
            }
            messages += 1
            first += length
        }
        runFirstSlot[messages] = count
        return messages
    }

    @inline(__always)
    private func sameDestination(_ a: Int, _ b: Int) -> Bool {
        let length = Int(headers[a].msg_hdr.msg_namelen)
        return length == Int(headers[b].msg_hdr.msg_namelen) && memcmp(addresses + a, addresses + b, length) == 0
    }

    /// Restores slot `index` for receiving: a full slot, any address, and room for the GRO
    /// segment size.
    @inline(__always)
    func prepareToReceive(_ index: Int) {
        iovecs[index].iov_len = slotSize
        setHeader(index, control: receiveControl + index * receiveControlSpace, controlLength: receiveControlSpace)
        headers[index].msg_len = 0
    }

    /// Points slot `index`'s message at its address, its buffer and `control`.
    @inline(__always)
    private func setHeader(_ index: Int, control: UnsafeMutableRawPointer?, controlLength: Int) {
        headers[index].msg_hdr = msghdr(
            msg_name: UnsafeMutableRawPointer(addresses + index),
            msg_namelen: socklen_t(MemoryLayout<sockaddr_storage>.size),
            msg_iov: iovecs + index, msg_iovlen: 1,
            msg_control: control, msg_controllen: controlLength, msg_flags: 0
        )
    }
}
