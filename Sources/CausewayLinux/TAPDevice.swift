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
        plainHeader.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        close(descriptor)
        plainHeader.deallocate()
    }

    /// Lets the kernel hand over large TCP frames to segment and frames whose checksum is
    /// left to fill in (see TCPSegmentation); returns whether it will.
    public func enableOffloads() -> Bool {
        cw_tap_enable_offloads(descriptor) != 0
    }

    /// Reads one frame, and its virtio-net header into `header`; nil when none is waiting.
    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawBufferPointer) throws -> Int? {
        var parts = (
            iovec(iov_base: header.baseAddress, iov_len: VirtioNetHeader.length),
            iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        )
        let count = withUnsafeMutablePointer(to: &parts) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                retryingInterrupts { readv(descriptor, vector, 2) }
            }
        }
        if count >= VirtioNetHeader.length { return count - VirtioNetHeader.length }
        if count >= 0 { return 0 }
        if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
        throw SystemCallError("read", "TAP \(name)")
    }

    /// Writes one frame; returns false when the kernel refused it (the frame is dropped).
    @inline(__always)
    public func write(_ frame: UnsafeRawBufferPointer) -> Bool {
        write(frame, header: UnsafeRawBufferPointer(plainHeader))
    }

    /// Writes one frame behind `header`, which may ask the kernel to segment it.
    @inline(__always)
    public func write(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer) -> Bool {
        var parts = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: frame.baseAddress), iov_len: frame.count)
        )
        let written = withUnsafeMutablePointer(to: &parts) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                retryingInterrupts { writev(descriptor, vector, 2) }
            }
        }
        return written == header.count + frame.count
    }
}
