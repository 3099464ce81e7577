import CausewayControl
import CausewayCore
import Logging
import Synchronization

/// Re-reads the configuration file (SIGHUP, `causewayctl reload`) and applies what can change
/// while frames flow: the peers (added, removed, given a new endpoint or name), `hub`, and the
/// settings `ReloadRules` names live. A peer whose key stays keeps its sessions. Everything else needs a
/// restart: a file that changes it, or that is invalid, is refused as a whole, logged, and the
/// running configuration stays.
final class Reloader: Sendable {
    let configPath: String
    let dataPlane: DataPlane
    let logger: Logger
    /// What runs now; a signal and a control request may reload at once.
    private let running: Mutex<Configuration>

    init(running configuration: Configuration, configPath: String, dataPlane: DataPlane, logger: Logger) {
        running = Mutex(configuration)
        self.configPath = configPath
        self.dataPlane = dataPlane
        self.logger = logger
    }

    func reload() -> Result<ReloadOutcome, ControlError> {
        running.withLock { running in
            let new: Configuration
            let identities: [SiteIdentity]
            do {
                new = try ConfigurationLoader.load(path: configPath)
                identities = try ConfigurationLoader.loadIdentities(for: new, configPath: configPath)
            } catch {
                return refuse("\(error)")
            }
            var fixed = ReloadRules.keysThatCannotChangeLive(from: running, to: new)
            if identities[0].local.publicKey != dataPlane.path.localKey.publicKey, !fixed.contains("'\(Configuration.Key.privateKeyFile.rawValue)'") {
                fixed.append("the key in '\(Configuration.Key.privateKeyFile.rawValue)'")
            }
            if identities[0].psk != dataPlane.path.psk, !fixed.contains("'\(Configuration.Key.presharedKeyFile.rawValue)'") {
                fixed.append("the key in '\(Configuration.Key.presharedKeyFile.rawValue)'")
            }
            guard fixed.isEmpty else {
                let live = (["peers"] + ReloadRules.liveKeys.map(\.rawValue)).joined(separator: ", ")
                return refuse("\(configPath): \(fixed.joined(separator: ", ")) cannot change while causewayd runs (\(live) can); restart it to apply them")
            }
            guard let changes = dataPlane.reconfigure(new, identities: identities) else {
                return refuse("the data plane did not take the new configuration within 2 s")
            }
            LiveLogLevel.set(Logger.Level(rawValue: new.logLevel.rawValue) ?? .info)
            let previous = running
            running = new
            let outcome = ReloadOutcome(
                added: changes.added, removed: changes.removed, moved: changes.moved,
                settings: ReloadRules.liveKeysChanged(from: previous, to: new)
            )
            logger.notice("configuration reloaded: \(outcome.summary)", metadata: ["peers": "\(new.peers.count)", "hub": "\(new.hub)"])
            return .success(outcome)
        }
    }

    private func refuse(_ message: String) -> Result<ReloadOutcome, ControlError> {
        logger.error("reload refused, the running configuration stays: \(message)")
        return .failure(ControlError(.invalidConfiguration, message))
    }

}
