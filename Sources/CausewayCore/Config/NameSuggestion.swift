/// "Did you mean …?" for a mistyped configuration key or subcommand: the known name nearest
/// to what was typed, offered only when it is close, so a suggestion is a likely fix and never
/// a guess.
public enum NameSuggestion {
    /// The known name closest to `typed` by edit distance, ignoring case and treating `_` as
    /// `-` (`lan_interface`, `LAN-Interface`); nil when none is within a third of the typed
    /// name's length (at most 3 edits), or when two are equally close.
    public static func nearest(to typed: String, among known: some Sequence<String>) -> String? {
        let wanted = normalized(typed)
        let limit = min(3, max(1, wanted.count / 3))
        var best: (name: String, distance: Int)?
        var tied = false
        for name in known {
            let distance = editDistance(wanted, normalized(name))
            guard distance <= limit else { continue }
            if let current = best, distance >= current.distance {
                if distance == current.distance, name != current.name { tied = true }
                continue
            }
            best = (name, distance)
            tied = false
        }
        return tied ? nil : best?.name
    }

    /// For a command line whose first argument is no subcommand but close to one: the
    /// message that names it ("Unknown subcommand 'stauts'. Did you mean 'status'?"); nil for
    /// anything else, which the argument parser then judges itself.
    public static func mistypedSubcommand(in arguments: [String], subcommands: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-"), !subcommands.contains(first),
              let suggestion = nearest(to: first, among: subcommands) else { return nil }
        return "Unknown subcommand '\(first)'. Did you mean '\(suggestion)'?"
    }

    /// Levenshtein distance: insertions, deletions and substitutions, each one edit.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func normalized(_ name: String) -> [Character] {
        Array(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }
}
