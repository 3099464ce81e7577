/// Puts split frames back together, in memory fixed at start: at most `slots` frames at once,
/// each at most `WireFormat.maximumFrameLength` bytes, each given `timeout` to complete. A
/// piece that overlaps another, reaches past its frame, or disagrees about the frame's length
/// ends that frame and is counted; so does a frame that never completes. A frame is delivered
/// whole or not at all.
public final class Reassembler: @unchecked Sendable {
    public static let defaultSlots = 64
    public static let timeout = Duration.milliseconds(500)
    /// Pieces one frame may come in; a jumbo frame over a 1280-byte path needs 8.
    public static let maximumPieces = 16

    public enum Outcome {
        case incomplete
        /// The whole frame, valid (and the caller's to edit) until the next call.
        case complete(UnsafeMutableRawBufferPointer)
        case dropped(DropReason)
    }

    private struct Slot {
        var inUse = false
        /// The sending peer's slot: frame IDs are each sender's own.
        var peer = 0
        var frameID: UInt32 = 0
        var frameLength = 0
        var received = 0
        var pieces = 0
        var startedAt = Moment.zero
    }

    public let slotCount: Int
    private var slots: [Slot]
    private let storage: UnsafeMutableRawBufferPointer
    /// (offset, length) of each piece received, `maximumPieces` per slot.
    private let ranges: UnsafeMutableBufferPointer<(Int, Int)>

    public init(slots: Int = Reassembler.defaultSlots) {
        slotCount = slots
        self.slots = Array(repeating: Slot(), count: slots)
        storage = .allocate(byteCount: slots * WireFormat.maximumFrameLength, alignment: 16)
        ranges = .allocate(capacity: slots * Self.maximumPieces)
        ranges.initialize(repeating: (0, 0))
    }

    deinit {
        storage.deallocate()
        ranges.deallocate()
    }

    /// The memory reassembly may ever hold: fixed, whatever arrives.
    public var capacityBytes: Int { storage.count }
    /// Frames begun and not yet complete, dropped or expired; kept as slots change, since
    /// the data plane asks every turn.
    public private(set) var framesInProgress = 0
    /// Bytes of frames being reassembled now.
    public var bytesInUse: Int { slots.reduce(0) { $0 + ($1.inUse ? $1.frameLength : 0) } }

    /// Adds one piece from the peer in slot `peer`; `counters` records what was dropped to
    /// make room or after a timeout.
    public func add(_ header: FragmentHeader, piece: UnsafeRawBufferPointer, from peer: Int = 0, now: Moment, counters: inout Counters) -> Outcome {
        let frameLength = Int(header.frameLength), offset = Int(header.offset)
        guard frameLength >= EthernetHeader.minimumLength, frameLength <= WireFormat.maximumFrameLength,
              !piece.isEmpty, offset + piece.count <= frameLength, piece.count < frameLength
        else { return .dropped(.fragmentOversized) }

        let index: Int
        if let existing = slots.firstIndex(where: { $0.inUse && $0.frameID == header.frameID && $0.peer == peer }) {
            index = existing
            guard slots[index].frameLength == frameLength else { return abandon(index, .fragmentOversized) }
        } else {
            index = freeSlot(now: now, counters: &counters)
            if !slots[index].inUse { framesInProgress += 1 }
            slots[index] = Slot(inUse: true, peer: peer, frameID: header.frameID, frameLength: frameLength, startedAt: now)
        }

        var slot = slots[index]
        let base = index * Self.maximumPieces
        for existing in ranges[base..<(base + slot.pieces)] where offset < existing.0 + existing.1 && existing.0 < offset + piece.count {
            return abandon(index, .fragmentOverlap)
        }
        guard slot.pieces < Self.maximumPieces else { return abandon(index, .fragmentOversized) }
        ranges[base + slot.pieces] = (offset, piece.count)
        slot.pieces += 1
        slot.received += piece.count
        let frameStart = index * WireFormat.maximumFrameLength
        UnsafeMutableRawBufferPointer(rebasing: storage[(frameStart + offset)..<(frameStart + offset + piece.count)]).copyMemory(from: piece)

        // Pieces never overlap, so as many bytes as the frame has means every byte is here.
        guard slot.received == frameLength else {
            slots[index] = slot
            return .incomplete
        }
        release(index)
        return .complete(UnsafeMutableRawBufferPointer(rebasing: storage[frameStart..<(frameStart + frameLength)]))
    }

    /// Drops frames older than `timeout`, counting each.
    public func expire(now: Moment, counters: inout Counters) {
        for index in slots.indices where slots[index].inUse && now.since(slots[index].startedAt) >= Self.timeout {
            release(index)
            counters.drop(.reassemblyTimeout)
        }
    }

    /// Forgets the frames of a peer that was removed: its slot may serve another one next.
    public func forget(peer: Int) {
        for index in slots.indices where slots[index].inUse && slots[index].peer == peer { release(index) }
    }

    /// A free slot; when none is, the oldest frame gives up its slot (counted).
    private func freeSlot(now: Moment, counters: inout Counters) -> Int {
        if let free = slots.firstIndex(where: { !$0.inUse }) { return free }
        expire(now: now, counters: &counters)
        if let free = slots.firstIndex(where: { !$0.inUse }) { return free }
        let oldest = slots.indices.min { slots[$0].startedAt < slots[$1].startedAt }!
        counters.drop(.reassemblyFull)
        return oldest
    }

    private func abandon(_ index: Int, _ reason: DropReason) -> Outcome {
        release(index)
        return .dropped(reason)
    }

    private func release(_ index: Int) {
        slots[index].inUse = false
        framesInProgress -= 1
    }
}
