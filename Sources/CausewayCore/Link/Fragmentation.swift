/// How a frame too large for one datagram is cut: into as few pieces as fit, of near-equal
/// size, so that no fragment is a runt.
public enum Fragmentation {
    /// The largest piece of frame one fragment carries when datagrams may be `largestDatagram` bytes.
    public static func pieceCapacity(largestDatagram: Int) -> Int {
        largestDatagram - WireFormat.fragmentOverhead
    }

    /// The number of pieces and the length of each but the last (which may be shorter).
    public static func split(frameLength: Int, largestDatagram: Int) -> (count: Int, pieceLength: Int) {
        let capacity = max(1, pieceCapacity(largestDatagram: largestDatagram))
        let count = (frameLength + capacity - 1) / capacity
        return (count, (frameLength + count - 1) / count)
    }
}
