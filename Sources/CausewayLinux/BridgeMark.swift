/// The note causewayd leaves on a bridge it created, in the bridge's interface alias, so that
/// a daemon started after a crash (SIGKILL, OOM, power loss of the process) can tell its own
/// bridge from one the operator made: its own it reuses and removes on stop, the operator's
/// it leaves as it found it. The mark lives and dies with the device, so no state file can
/// go stale or outlive a reboot.
///
/// The alias reads `causeway: created for TAP` and, when causewayd had to bring the LAN NIC
/// up, `; NIC was down`, so that a restart can still put the NIC back down on stop.
public struct BridgeMark: Equatable, Sendable, CustomStringConvertible {
    static let prefix = "causeway: created for "
    static let nicDownSuffix = " was down"

    /// The TAP the bridge was created for.
    public let tap: String
    /// The LAN NIC that was down before causewayd brought it up, if any.
    public let nicThatWasDown: String?

    public init(tap: String, nicThatWasDown: String?) {
        self.tap = tap
        self.nicThatWasDown = nicThatWasDown
    }

    /// Reads a mark back from an alias; nil for any alias causewayd did not write.
    public init?(alias: String) {
        guard alias.hasPrefix(Self.prefix) else { return nil }
        let facts = alias.dropFirst(Self.prefix.count).split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingPrefix(" ") }
        guard let tap = facts.first, !tap.isEmpty, facts.count <= 2 else { return nil }
        self.tap = String(tap)
        if facts.count == 2 {
            guard facts[1].hasSuffix(Self.nicDownSuffix) else { return nil }
            let nic = facts[1].dropLast(Self.nicDownSuffix.count)
            guard !nic.isEmpty else { return nil }
            nicThatWasDown = String(nic)
        } else {
            nicThatWasDown = nil
        }
    }

    /// The alias text.
    public var description: String {
        Self.prefix + tap + (nicThatWasDown.map { "; \($0)\(Self.nicDownSuffix)" } ?? "")
    }
}
