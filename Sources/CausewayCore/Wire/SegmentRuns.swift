/// Which consecutive datagrams of a batch leave as one UDP GSO send. The kernel cuts such a
/// send into datagrams of the first one's length, so in a run every datagram but the last
/// has exactly that length and the last at most that; all go to one destination; and the
/// kernel caps a send's segments and its bytes (UDP's 16-bit length).
public enum SegmentRuns {
    /// The kernel's UDP_MAX_SEGMENTS was 64 before Linux 6.2 raised it.
    public static let maximumSegments = 64
    /// 65,535 less the largest IP and UDP headers.
    public static let maximumBytes = 65_535 - 60 - 8

    /// How many datagrams, from `first` on (of `count`), make one run; at least one.
    @inline(__always)
    public static func length(
        from first: Int, count: Int, length: (Int) -> Int, sameDestination: (Int, Int) -> Bool
    ) -> Int {
        let size = length(first)
        var end = first + 1
        var bytes = size
        while end < count, end - first < maximumSegments {
            let next = length(end)
            guard next <= size, bytes + next <= maximumBytes, sameDestination(first, end) else { break }
            end += 1
            bytes += next
            if next < size { break }
        }
        return end - first
    }
}
