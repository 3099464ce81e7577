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

    public init(capacity: Int, slotSize: Int) {
        self.capacity = capacity
        self.slotSize = slotSize
        buffers = .allocate(byteCount: capacity * slotSize, alignment: 16)
        iovecs = .allocate(capacity: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: cw_mmsghdr(), count: capacity)
        for index in 0..<capacity {
            iovecs[index] = iovec(iov_base: buffers.baseAddress! + index * slotSize, iov_len: slotSize)
            resetHeader(index)
        }
    }

    deinit {
        buffers.deallocate()
        iovecs.deallocate()
        addresses.deallocate()
        headers.deallocate()
    }

    /// The whole buffer of slot `index`, to fill before sending.
    @inline(__always)
    public func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffers.baseAddress! + index * slotSize, count: slotSize)
    }

    /// The datagram received into slot `index`.
    @inline(__always)
    public func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffers.baseAddress! + index * slotSize, count: Int(headers[index].msg_len))
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

    /// Restores slot `index` for receiving a full-size datagram.
    @inline(__always)
    func resetHeader(_ index: Int) {
        iovecs[index].iov_len = slotSize
        headers[index].msg_hdr = msghdr(
            msg_name: UnsafeMutableRawPointer(addresses + index),
            msg_namelen: socklen_t(MemoryLayout<sockaddr_storage>.size),
            msg_iov: iovecs + index, msg_iovlen: 1,
            msg_control: nil, msg_controllen: 0, msg_flags: 0
        )
        headers[index].msg_len = 0
    }
}
