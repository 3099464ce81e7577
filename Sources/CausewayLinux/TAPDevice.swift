import CausewayCore
import CLinuxShim
import Glibc

/// A TAP device: Ethernet frames in and out through one non-blocking file descriptor, each
/// behind a virtio-net header. The device is not persistent: it disappears when the
/// descriptor is closed.
public final class TAPDevice: @unchecked Sendable {
    public let name: String
    public let descriptor: Int32
    /// The all-zero header of a plain frame written.
    private let plainHeader = UnsafeMutableRawBufferPointer.allocate(byteCount: VirtioNetHeader.length, alignment: 8)

    /// Whether the kernel hands over large TCP frames to segment and frames whose checksum is
    /// left to fill in (see TCPSegmentation). Without offloads (an old kernel) it hands over
    /// plain frames, which work too.
    public let offloadsEnabled: Bool
    /// Whether a frame written may ask the kernel to cut it into UDP datagrams (Linux 6.2 on).
    public let acceptsUDPSegmentation: Bool

    public init(name: String) throws {
        let fd = retryingInterrupts { open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemCallError("open", "/dev/net/tun") }
        var actual = [CChar](repeating: 0, count: Int(IFNAMSIZ))
        guard cw_tap_attach(fd, name, &actual) == 0 else {
            let error = SystemCallError("ioctl(TUNSETIFF)", "TAP \(name)")
            close(fd)
            throw error
        }
        self.name = String(decoding: actual.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        descriptor = fd
        offloadsEnabled = cw_tap_enable_offloads(fd) != 0
        acceptsUDPSegmentation = offloadsEnabled && cw_tap_takes_udp_segmentation(fd) != 0
        plainHeader.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        close(descriptor)
        plainHeader.deallocate()
    }

}

extension TAPDevice: FrameDevice {
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
