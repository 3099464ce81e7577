/// How a session index names its peer: its low bits are the peer's slot, so a datagram finds
/// its peer with a mask, whatever the number of peers, before any cryptography. The other
/// bits are random, fresh for each session.
public enum PeerSlots {
    static let bits: UInt32 = 10
    /// Peers one gateway can hold.
    public static let capacity = 1 << bits
    static let mask = UInt32(capacity - 1)

    /// The slot a session index (ours, as the peer sends it back) belongs to.
    @inline(__always)
    public static func slot(ofIndex index: UInt32) -> Int { Int(index & mask) }

    /// A fresh random index for a session or handshake of the peer in `slot`; never zero.
    static func freshIndex(slot: Int) -> UInt32 {
        var generator = SystemRandomNumberGenerator()
        return UInt32.random(in: 1...(UInt32.max >> bits), using: &generator) << bits | UInt32(slot)
    }
}
