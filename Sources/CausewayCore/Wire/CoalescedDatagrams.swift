/// A buffer received with UDP GRO: datagrams of one sender back to back, each
/// `segmentSize` bytes but the last, which may be shorter. The mirror of `SegmentRuns`.
public enum CoalescedDatagrams {
    /// Calls `body` with each datagram in `received`; a size of zero, or one not smaller
    /// than the buffer, means the buffer holds one datagram.
    @inline(__always)
    public static func forEach(in received: UnsafeRawBufferPointer, segmentSize: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard segmentSize > 0, segmentSize < received.count else {
            body(received)
            return
        }
        var offset = 0
        while offset < received.count {
            let end = min(offset + segmentSize, received.count)
            body(UnsafeRawBufferPointer(rebasing: received[offset..<end]))
            offset = end
        }
    }
}
