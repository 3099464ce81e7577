import CausewayControl
import CausewayCore
import Logging
import Synchronization

/// Re-reads the configuration file (SIGHUP, `causewayctl reload`) and applies what can change
/// while frames flow: the peers (added, removed, given a new endpoint or name) and `hub`. A
/// peer whose key stays keeps its sessions. Everything else needs a restart: a file that
/// changes it, or that is invalid, is refused as a whole, logged, and the running
/// configuration stays.
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
            var fixed = Self.keysThatCannotChangeLive(from: running, to: new)
            if identities[0].local.publicKey != dataPlane.path.localKey.publicKey, !fixed.contains("'\(Configuration.Key.privateKeyFile.rawValue)'") {
                fixed.append("the key in '\(Configuration.Key.privateKeyFile.rawValue)'")
            }
            if identities[0].psk != dataPlane.path.psk, !fixed.contains("'\(Configuration.Key.presharedKeyFile.rawValue)'") {
                fixed.append("the key in '\(Configuration.Key.presharedKeyFile.rawValue)'")
            }
            guard fixed.isEmpty else {
                return refuse("\(configPath): \(fixed.joined(separator: ", ")) cannot change while causewayd runs (peers and hub can); restart it to apply them")
            }
            guard let changes = dataPlane.reconfigure(peers: new.peers, identities: identities, hub: new.hub) else {
                return refuse("the data plane did not take the new peers within 2 s")
            }
            running = new
            let outcome = ReloadOutcome(added: changes.added, removed: changes.removed, moved: changes.moved)
            logger.notice("configuration reloaded: \(outcome.summary)", metadata: ["peers": "\(new.peers.count)", "hub": "\(new.hub)"])
            return .success(outcome)
        }
    }

    private func refuse(_ message: String) -> Result<ReloadOutcome, ControlError> {
        logger.error("reload refused, the running configuration stays: \(message)")
        return .failure(ControlError(.invalidConfiguration, message))
    }

    /// The configuration keys whose values differ, among those only a restart applies.
    static func keysThatCannotChangeLive(from old: Configuration, to new: Configuration) -> [String] {
        var liveOnly = new
        liveOnly.peers = old.peers
        liveOnly.hub = old.hub
        guard liveOnly != old else { return [] }
        typealias Key = Configuration.Key
        let checks: [(Key, Bool)] = [
            (.bridge, old.bridge != new.bridge), (.lanInterface, old.lanInterface != new.lanInterface), (.tap, old.tap != new.tap),
            (.listen, old.listen != new.listen), (.privateKeyFile, old.privateKeyFile != new.privateKeyFile),
            (.presharedKeyFile, old.presharedKeyFile != new.presharedKeyFile), (.networkID, old.networkID != new.networkID),
            (.macAgingTime, old.macAgingTime != new.macAgingTime), (.macTableSize, old.macTableSize != new.macTableSize),
            (.keepaliveInterval, old.keepaliveInterval != new.keepaliveInterval), (.logLevel, old.logLevel != new.logLevel),
            (.controlSocket, old.controlSocket != new.controlSocket), (.migrateAddresses, old.migrateAddresses != new.migrateAddresses),
            (.icmpTooBig, old.icmpTooBig != new.icmpTooBig), (.floodRate, old.floodRate != new.floodRate),
            (.floodBurst, old.floodBurst != new.floodBurst), (.macHoldTime, old.macHoldTime != new.macHoldTime),
        ]
        return checks.filter(\.1).map { "'\($0.0.rawValue)'" }
    }
}
