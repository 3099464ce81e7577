import CLinuxShim
import Glibc

/// A TAP device: Ethernet frames in and out through one non-blocking file descriptor.
/// The device is not persistent: it disappears when the descriptor is closed.
public final class TAPDevice: @unchecked Sendable {
    public let name: String
    public let descriptor: Int32

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
    }

    deinit { close(descriptor) }

    /// Reads one frame; nil when none is waiting.
    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let count = retryingInterrupts { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
        if count >= 0 { return count }
        if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
        throw SystemCallError("read", "TAP \(name)")
    }

    /// Writes one frame; returns false when the kernel refused it (the frame is dropped).
    @inline(__always)
    public func write(_ frame: UnsafeRawBufferPointer) -> Bool {
        retryingInterrupts { Glibc.write(descriptor, frame.baseAddress, frame.count) } == frame.count
    }
}
