/// The clear header sealed in front of each fragment's piece of frame.
public struct FragmentHeader: Sendable, Equatable {
    public var frameID: UInt32
    /// The length of the whole frame.
    public var frameLength: UInt16
    /// Where this piece starts in the frame.
    public var offset: UInt16

    public init(frameID: UInt32, frameLength: UInt16, offset: UInt16) {
        self.frameID = frameID
        self.frameLength = frameLength
        self.offset = offset
    }

    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= WireFormat.fragmentHeaderLength else { return nil }
        frameID = bytes.loadBigEndian(at: 0, as: UInt32.self)
        frameLength = bytes.loadBigEndian(at: 4, as: UInt16.self)
        offset = bytes.loadBigEndian(at: 6, as: UInt16.self)
    }

    public func write(into out: UnsafeMutableRawBufferPointer) {
        out.storeBigEndian(frameID, at: 0)
        out.storeBigEndian(frameLength, at: 4)
        out.storeBigEndian(offset, at: 6)
    }
}
