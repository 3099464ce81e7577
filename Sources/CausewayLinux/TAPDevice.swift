import CausewayCore
import CLinuxShim
import Glibc

/// A TAP device: Ethernet frames in and out through non-blocking file descriptors, each
/// frame behind a virtio-net header. With several data-plane threads it has a queue for each
/// (IFF_MULTI_QUEUE): the kernel hands all frames of a flow, both ways, to one queue, the
/// one the flow's frames were last written to. The device is not persistent: it disappears
/// when its last queue is closed.
public final class TAPDevice: @unchecked Sendable {
    public let name: String
    /// One descriptor per lane, in the order of the lanes.
    public let queues: [TAPQueue]

    /// Whether the kernel hands over large TCP frames to segment and frames whose checksum is
    /// left to fill in (see TCPSegmentation). Without offloads (an old kernel) it hands over
    /// plain frames, which work too.
    public let offloadsEnabled: Bool
    /// Whether a frame written may ask the kernel to cut it into UDP datagrams (Linux 6.2 on).
    public let acceptsUDPSegmentation: Bool

    /// Creates the device with `queueCount` queues; one is a plain single-queue TAP.
    public init(name: String, queueCount: Int = 1) throws {
        precondition(queueCount >= 1, "a TAP has a queue")
        var queues: [TAPQueue] = []
        var actualName = name
        for _ in 0..<queueCount {
            // Queues after the first attach to the device the first one created.
            let queue = try TAPQueue(attachingTo: actualName, multiQueue: queueCount > 1)
            actualName = queue.deviceName
            queues.append(queue)
        }
        self.name = actualName
        self.queues = queues
        // Offloads are the device's: set through any one queue.
        let first = queues[0].descriptor
        offloadsEnabled = cw_tap_enable_offloads(first) != 0
        acceptsUDPSegmentation = offloadsEnabled && cw_tap_takes_udp_segmentation(first) != 0
        for queue in queues { queue.acceptsUDPSegmentation = acceptsUDPSegmentation }
    }
}

/// One queue of a TAP device: the frames the kernel hands one lane, and the lane's writes.
public final class TAPQueue: @unchecked Sendable {
    public let descriptor: Int32
    let deviceName: String
    /// The all-zero header of a plain frame written.
    private let plainHeader = UnsafeMutableRawBufferPointer.allocate(byteCount: VirtioNetHeader.length, alignment: 8)
    public fileprivate(set) var acceptsUDPSegmentation = false

    init(attachingTo name: String, multiQueue: Bool) throws {
        let fd = retryingInterrupts { open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemCallError("open", "/dev/net/tun") }
        var actual = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        guard cw_tap_attach(fd, name, &actual, multiQueue ? 1 : 0) == 0 else {
            let error = SystemCallError("ioctl(TUNSETIFF)", "TAP \(name)")
            close(fd)
            throw error
        }
        deviceName = String(decoding: actual.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        descriptor = fd
        plainHeader.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        close(descriptor)
        plainHeader.deallocate()
    }
}

extension TAPQueue: FrameDevice {
    @inline(__always)
    public func read(into frame: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawBufferPointer) -> IOResult {
        var parts = (
            iovec(iov_base: header.baseAddress, iov_len: VirtioNetHeader.length),
            iovec(iov_base: frame.baseAddress, iov_len: frame.count)
        )
        let count = withUnsafeMutablePointer(to: &parts) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                retryingInterrupts { readv(descriptor, vector, 2) }
            }
        }
        if count >= VirtioNetHeader.length { return .completed(count - VirtioNetHeader.length) }
        if count >= 0 { return .completed(0) }
        return IOResult(failedWith: errno)
    }

    /// With no carrier the bridge sends nothing into the TAP, and STP sees the port as down.
    public func setCarrier(_ on: Bool) -> IOResult {
        cw_tap_set_carrier(descriptor, on ? 1 : 0) == 0 ? .completed(0) : IOResult(failedWith: errno)
    }

    @inline(__always)
    public func write(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer?) -> IOResult {
        let header = header ?? UnsafeRawBufferPointer(plainHeader)
        var parts = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress), iov_len: frame.count)
        )
        let written = withUnsafeMutablePointer(to: &parts) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                retryingInterrupts { writev(descriptor, vector, 2) }
            }
        }
        guard written >= 0 else { return IOResult(failedWith: errno) }
        // A TAP takes a frame whole or not at all; anything else is a failed write.
        return written == header.count + frame.count ? .completed(written) : .failed(errno: EIO)
    }
}
