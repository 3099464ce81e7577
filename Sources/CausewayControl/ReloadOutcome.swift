import CausewayCore

/// What a reload (SIGHUP or `causewayctl reload`) did: the peers added, removed and moved to
/// a new endpoint, by name. A configuration that cannot be applied is refused as a whole
/// (`ControlError.invalidConfiguration`), and the running one stays.
public struct ReloadOutcome: Codable, Equatable, Sendable {
    public var added: [String]
    public var removed: [String]
    public var moved: [String]

    public init(added: [String], removed: [String], moved: [String]) {
        self.added = added
        self.removed = removed
        self.moved = moved
    }

    /// One line for the log and for causewayctl.
    public var summary: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        if !moved.isEmpty { parts.append("new endpoint for \(moved.joined(separator: ", "))") }
        return parts.isEmpty ? "no peer changed" : parts.joined(separator: "; ")
    }
}
