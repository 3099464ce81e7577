import CausewayCore
import Foundation
import Logging

/// Writes log lines the way systemd's journal reads a service's stderr (`JournalLine`):
/// priority prefix, message, fields. Used when the journal is at the other end of stderr.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let level = Configuration.LogLevel(rawValue: event.level.rawValue) ?? .info
        let line = JournalLine.format(
            level: level, message: event.message.description,
            fields: merged.map { (key: $0.key, value: "\($0.value)") }
        )
        // One write per line: lines from several threads never interleave.
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Chooses the daemon's log format once, at start.
public enum DaemonLogging {
    /// systemd sets JOURNAL_STREAM for a service whose stderr goes to the journal
    /// (systemd.exec(5)); there the journal's own format, elsewhere (a terminal, a test's log
    /// file) swift-log's usual lines with their timestamps.
    public static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        // Either way the level is the live one (LiveLogLevel), which a reload may change.
        if environment["JOURNAL_STREAM"] != nil {
            LoggingSystem.bootstrap { LiveLevelLogHandler(inner: JournalLogHandler(label: $0)) }
        } else {
            LoggingSystem.bootstrap { LiveLevelLogHandler(inner: StreamLogHandler.standardError(label: $0)) }
        }
    }
}
