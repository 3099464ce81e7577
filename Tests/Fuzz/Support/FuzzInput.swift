/// Reads a fuzz input as a sequence of records, so one input can be several frames or
/// datagrams in a row (what reassembly and coalescing need). Reading past the end gives
/// zeros and empty slices: every input is some sequence.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    public var isEmpty: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// Two bytes, little-endian.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) | UInt16(byte()) << 8
    }

    /// The next `count` bytes, fewer at the end.
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let end = min(bytes.count, position + count)
        defer { position = end }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
    }

    /// A record's bytes: a two-byte length, then that many bytes (fewer at the end).
    public mutating func record() -> UnsafeRawBufferPointer {
        take(Int(uint16()))
    }
}
