/// One counter of `Counters`, with every name it goes by: the one place a report, the metrics
/// or the docs learn what a counter is called and what it counts.
public struct CounterDescriptor: Sendable {
    /// The tables of `causewayctl status` the counters are grouped into.
    public enum Group: CaseIterable, Sendable {
        case traffic, switching, link, path

        /// The heading of the group's table in the human report.
        public var heading: String {
            switch self {
            case .traffic: "TRAFFIC"
            case .switching: "SWITCHING"
            case .link: "LINK"
            case .path: "PATH"
            }
        }
    }

    /// The field in `Counters`.
    public let field: WritableKeyPath<Counters, UInt64> & Sendable
    /// Its key in status JSON (`status.counters`); the field's own name, and its row in
    /// `causewayctl status --all`: one name for people and scripts.
    public let key: String
    /// The Prometheus name without the `causeway_` prefix and the `_total` suffix.
    public let metric: String
    /// What it counts, in a sentence: the metric's HELP and the docs' meaning.
    public let help: String
    public let group: Group

    init(_ field: WritableKeyPath<Counters, UInt64> & Sendable, key: String, metric: String, group: Group, help: String) {
        self.field = field
        self.key = key
        self.metric = metric
        self.help = help
        self.group = group
    }
}

/// The drops: one counter per `DropReason`, reported as one metric family labelled by reason.
public struct DropCounterDescriptor: Sendable {
    /// Its key in status JSON: an object with one key per reason.
    public let key: String
    /// The Prometheus family name without the `causeway_` prefix and the `_total` suffix.
    public let metric: String
    /// The name of the label that carries the reason's raw value.
    public let labelName: String
    /// What it counts: the family's HELP and the docs' meaning.
    public let help: String
    /// The heading of the human report's table of reasons.
    public let heading: String
}
