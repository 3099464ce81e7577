/// A 24-bit identifier of one bridged Ethernet segment.
public struct NetworkID: Hashable, Sendable, CustomStringConvertible {
    public static let maximum: UInt32 = 0xFF_FFFF
    public let rawValue: UInt32

    public init?(_ rawValue: UInt32) {
        guard rawValue <= Self.maximum else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue) }
}
