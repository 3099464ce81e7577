import CausewayCore

/// What a reload (SIGHUP or `causewayctl reload`) did: the peers added, removed and moved to
/// a new endpoint, by name. A configuration that cannot be applied is refused as a whole
/// (`ControlError.invalidConfiguration`), and the running one stays.
public struct ReloadOutcome: Codable, Equatable, Sendable {
    public var added: [String]
    public var removed: [String]
    public var moved: [String]
    /// The other keys whose new values now apply (hub, keepalive-interval, …).
    public var settings: [String]

    public init(added: [String], removed: [String], moved: [String], settings: [String] = []) {
        self.added = added
        self.removed = removed
        self.moved = moved
        self.settings = settings
    }

    /// One line for the log and for causewayctl.
    public var summary: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        if !moved.isEmpty { parts.append("new endpoint for \(moved.joined(separator: ", "))") }
        if parts.isEmpty { parts.append("no peer changed") }
        if !settings.isEmpty { parts.append("now in effect: \(settings.joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
