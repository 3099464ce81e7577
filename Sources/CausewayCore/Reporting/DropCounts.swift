/// One count per `DropReason`, in a fixed inline array indexed by the reason: counting a drop
/// neither hashes nor allocates, and a copy of `Counters` copies plain words.
public struct DropCounts: Sendable, Equatable {
    /// Exactly `DropReason.allCases.count` slots; DropCountsTests fails when a reason is added
    /// without growing this.
    @usableFromInline
    var storage = InlineArray<29, UInt64>(repeating: 0)

    /// Every count zero.
    public init() {}

    /// The count for `reason`.
    @inlinable
    public subscript(reason: DropReason) -> UInt64 {
        get { storage[reason.index] }
        set { storage[reason.index] = newValue }
    }

    /// Every drop, whatever its reason.
    public var total: UInt64 {
        DropReason.allCases.reduce(0) { $0 &+ self[$1] }
    }

    public static func == (lhs: DropCounts, rhs: DropCounts) -> Bool {
        DropReason.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }
}

/// An object with one key per reason (its raw value), zeros included, as status JSON has it.
extension DropCounts: Codable {
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: NameKey.self)
        for reason in DropReason.allCases {
            self[reason] = try container.decodeIfPresent(UInt64.self, forKey: NameKey(reason.rawValue)) ?? 0
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: NameKey.self)
        for reason in DropReason.allCases {
            try container.encode(self[reason], forKey: NameKey(reason.rawValue))
        }
    }
}
