@testable import CausewayCore

/// A site's LAN in memory: frames a test injects are what the data path reads (as from the
/// TAP), and what it writes is kept for the test to look at. The stand-in for TAPDevice,
/// as wireguard-go's tests have a channel TUN.
final class MemoryFrameDevice: FrameDevice {
    /// A frame the data path wrote, with its virtio-net header (nil for a plain frame).
    struct Written: Equatable {
        var frame: [UInt8]
        var header: [UInt8]?
    }

    private let inbound = SlotRing(capacity: 256, slotSize: VirtioNetHeader.length + DataPath.largestLANFrame + 64)
    private let outbound = SlotRing(capacity: 256, slotSize: VirtioNetHeader.length + DataPath.largestLANFrame + 64)
    /// Frames the test wanted written that did not fit `outbound`.
    private(set) var writesRefused = 0
    private let plainHeader = [UInt8](repeating: 0, count: VirtioNetHeader.length)

    /// Queues a frame for the data path to read, behind `header` (a plain frame's by default).
    func inject(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer? = nil) {
        let pushed = plainHeader.withUnsafeBytes { plain in inbound.push(header ?? plain, frame) }
        precondition(pushed, "the test LAN's queue is full")
    }

    func inject(_ frame: [UInt8], header: [UInt8]? = nil) {
        frame.withUnsafeBytes { frame in
            if let header {
                header.withUnsafeBytes { inject(frame, header: $0) }
            } else {
                inject(frame)
            }
        }
    }

    /// Everything written so far, oldest first; forgets it.
    func takeWritten() -> [Written] {
        outbound.drain().map { entry in
            let header = Array(entry.bytes[0..<VirtioNetHeader.length])
            return Written(frame: Array(entry.bytes[VirtioNetHeader.length...]), header: header == plainHeader ? nil : header)
        }
    }

    /// As a TAP on Linux 6.2 or later; false as on an older kernel.
    var acceptsUDPSegmentation = true

    /// Frames waiting to be read.
    var waiting: Int { inbound.count }
    /// Whether the data path gave the device carrier, as a TAP's bridge port would see it.
    private(set) var hasCarrier = true

    func setCarrier(_ on: Bool) -> IOResult {
        hasCarrier = on
        return .completed(0)
    }

    func read(into frame: UnsafeMutableRawBufferPointer, header: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let (bytes, _) = inbound.peek() else { return .wouldBlock }
        defer { inbound.removeFirst() }
        header.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<VirtioNetHeader.length]))
        let length = bytes.count - VirtioNetHeader.length
        // Like readv: what does not fit is cut off, and the frame's length is returned.
        let copied = min(length, frame.count)
        UnsafeMutableRawBufferPointer(rebasing: frame[0..<copied])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[VirtioNetHeader.length..<(VirtioNetHeader.length + copied)]))
        return .completed(length)
    }

    func write(_ frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer?) -> IOResult {
        let pushed = plainHeader.withUnsafeBytes { plain in outbound.push(header ?? plain, frame) }
        guard pushed else {
            writesRefused += 1
            return .wouldBlock
        }
        return .completed(frame.count + VirtioNetHeader.length)
    }
}
