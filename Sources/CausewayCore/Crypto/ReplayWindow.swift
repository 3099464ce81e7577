/// A sliding window of received message counters (RFC 6479): rejects a counter seen before
/// or one too far behind the highest seen, in constant time and constant memory. Its bitmap is
/// inline, so a window lives wherever its owner puts it (a session keeps one per sending
/// lane in memory of its own) and is never shared through a reference.
public struct ReplayWindow: Sendable {
    static let wordBits = 64
    static let words = 64
    /// Counters this far behind the highest one are still accepted once.
    public static let size = (words - 1) * wordBits

    private var bitmap = InlineArray<64, UInt64>(repeating: 0)
    private var highest: UInt64 = 0
    private var seenAny = false

    public init() {}

    /// Whether `counter` may be accepted; `accept` must follow once the message authenticated.
    public func mayAccept(_ counter: UInt64) -> Bool {
        if !seenAny || counter > highest { return true }
        if highest - counter >= UInt64(Self.size) { return false }
        let (word, bit) = Self.position(of: counter)
        return bitmap[word] & (1 << bit) == 0
    }

    /// Records `counter`, sliding the window forward when it is the newest yet.
    public mutating func accept(_ counter: UInt64) {
        if !seenAny || counter > highest {
            let newWord = counter / UInt64(Self.wordBits)
            let oldWord = seenAny ? highest / UInt64(Self.wordBits) : newWord &- 1
            // Words the window slides over are reused, so they are cleared first.
            let toClear = min(newWord &- oldWord, UInt64(Self.words))
            if toClear > 0 {
                for step in 1...toClear {
                    bitmap[Int((oldWord &+ step) % UInt64(Self.words))] = 0
                }
            }
            highest = counter
            seenAny = true
        }
        let (word, bit) = Self.position(of: counter)
        bitmap[word] |= 1 << bit
    }

    private static func position(of counter: UInt64) -> (word: Int, bit: UInt64) {
        (Int((counter / UInt64(wordBits)) % UInt64(words)), counter % UInt64(wordBits))
    }
}
