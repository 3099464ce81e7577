@testable import CausewayCore

/// A first-in first-out queue of byte strings in memory allocated once: what the in-memory
/// devices hold, so that moving a frame through them allocates nothing.
final class SlotRing {
    let capacity: Int
    let slotSize: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var extras: [UInt64]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int, slotSize: Int) {
        self.capacity = capacity
        self.slotSize = slotSize
        storage = .allocate(byteCount: capacity * slotSize, alignment: 16)
        lengths = Array(repeating: 0, count: capacity)
        extras = Array(repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    var isFull: Bool { count == capacity }

    /// Appends `parts` back to back as one entry, with a word of extra data; false when
    /// full or too large.
    @discardableResult
    func push(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), extra: UInt64 = 0) -> Bool {
        guard count < capacity, first.count + second.count <= slotSize else { return false }
        let index = (head + count) % capacity
        let slot = UnsafeMutableRawBufferPointer(rebasing: storage[(index * slotSize)..<((index + 1) * slotSize)])
        if !first.isEmpty { UnsafeMutableRawBufferPointer(rebasing: slot[0..<first.count]).copyMemory(from: first) }
        if !second.isEmpty { UnsafeMutableRawBufferPointer(rebasing: slot[first.count..<(first.count + second.count)]).copyMemory(from: second) }
        lengths[index] = first.count + second.count
        extras[index] = extra
        count += 1
        return true
    }

    /// The oldest entry and its extra word, valid until the next `push`.
    func peek() -> (bytes: UnsafeRawBufferPointer, extra: UInt64)? {
        guard count > 0 else { return nil }
        let start = head * slotSize
        return (UnsafeRawBufferPointer(rebasing: storage[start..<(start + lengths[head])]), extras[head])
    }

    func removeFirst() {
        head = (head + 1) % capacity
        count -= 1
    }

    /// Every entry, oldest first, copied out; empties the ring. Allocates: for assertions.
    func drain() -> [(bytes: [UInt8], extra: UInt64)] {
        var all: [(bytes: [UInt8], extra: UInt64)] = []
        while let (bytes, extra) = peek() {
            all.append((Array(bytes), extra))
            removeFirst()
        }
        return all
    }
}
