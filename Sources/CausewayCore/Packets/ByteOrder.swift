/// Network byte order for every header field Causeway reads or writes: the one place that
/// turns big-endian bytes into integers and back, so no parser shifts bytes by hand.
extension UnsafeRawBufferPointer {
    /// The big-endian integer at `offset`, which need not be aligned.
    @inlinable @inline(__always)
    public func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The big-endian integer at `offset`, which need not be aligned.
    @inlinable @inline(__always)
    public func loadBigEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
        UnsafeRawBufferPointer(self).loadBigEndian(at: offset, as: type)
    }

    /// Writes `value` big-endian at `offset`, which need not be aligned.
    @inlinable @inline(__always)
    public func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
