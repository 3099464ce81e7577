import Logging
import Synchronization

/// The daemon's log level: one for every logger of the process, so a reload can change it
/// while the threads log. Each handler reads it (an atomic load) instead of keeping its own.
enum LiveLogLevel {
    private static let current = Atomic<UInt8>(index(of: .info))

    static var level: Logger.Level {
        Logger.Level.allCases[Int(current.load(ordering: .relaxed))]
    }

    static func set(_ level: Logger.Level) {
        current.store(index(of: level), ordering: .relaxed)
    }

    private static func index(of level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level)!)
    }
}

/// Wraps the handler the daemon writes with, its level the live one.
struct LiveLevelLogHandler: LogHandler {
    var inner: any LogHandler

    var logLevel: Logger.Level {
        get { LiveLogLevel.level }
        set { LiveLogLevel.set(newValue) }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
