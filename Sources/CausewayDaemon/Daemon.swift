import CausewayCore
import CausewayLinux
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import CausewayControl

/// A failure to start, with the exit code that tells its kind.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    /// 2 for a configuration problem, 1 for anything the system refused.
    public let exitCode: Int32
}

/// The control plane of one gateway: sets the devices up, runs the data plane until
/// SIGTERM or SIGINT, and puts everything back.
public enum Daemon {
    /// What `check` found: the configuration, this site's identity towards each peer, and
    /// whether a causewayd of this configuration runs now (its devices and port are then its).
    public struct Checked {
        public let configuration: Configuration
        public let identities: [SiteIdentity]
        public let runningInstance: Bool
    }

    /// Validates a configuration, its keys, its devices and its listen address as strictly as
    /// `run` would, without changing the system. On a live gateway, the devices and the port
    /// the running causewayd of this same configuration holds are taken as its.
    public static func check(configPath: String) throws -> Checked {
        try requireNetAdmin(configPath)
        let configuration = try loadConfiguration(configPath)
        let identities = try loadIdentities(configuration, configPath)
        let running = RunningInstance.holds(configuration)
        do {
            try BridgeAttachment.preflight(configuration, netlink: try Netlink(), heldByRunningInstance: running)
        } catch let error as AttachmentError {
            throw StartupError(description: "\(configPath): \(error)", exitCode: 2)
        }
        if !running {
            do {
                _ = try UDPSocket(binding: configuration.listen, sendSlotSize: 2048)
            } catch {
                throw StartupError(description: "\(configPath): key 'listen': cannot bind \(configuration.listen): \(error)", exitCode: 2)
            }
        }
        return Checked(configuration: configuration, identities: identities, runningInstance: running)
    }

    /// Every device change needs CAP_NET_ADMIN: said before anything fails with EPERM.
    private static func requireNetAdmin(_ configPath: String) throws {
        guard Capabilities.haveNetAdmin() else {
            throw StartupError(description: "\(configPath): causewayd needs CAP_NET_ADMIN to create its TAP and join the bridge: run it as root, or as the unit deploy/causeway@.service does (AmbientCapabilities=CAP_NET_ADMIN)", exitCode: 1)
        }
    }

    public static func run(configPath: String) async throws {
        try requireNetAdmin(configPath)
        let configuration = try loadConfiguration(configPath)
        let identities = try loadIdentities(configuration, configPath)
        let siteKey = identities[0].local.publicKey
        let tapAddress = configuration.tapAddress(siteKey: siteKey)
        let startedAt = Clock.monotonic()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var logger = Logger(label: "causewayd")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info

        // First, so that a second daemon for the same site stops before touching a device.
        let listener: UnixListener
        do {
            listener = try UnixListener(path: configuration.controlSocket, groupName: controlGroup)
        } catch {
            throw StartupError(description: "\(configPath): key 'control-socket': \(error)", exitCode: 1)
        }
        var listenerOwned = true
        defer { if listenerOwned { listener.remove() } }

        let attachment: BridgeAttachment
        do {
            attachment = try BridgeAttachment(
                configuration: configuration, tapAddress: tapAddress, tapQueues: configuration.laneCount(cores: cores), netlink: try Netlink()
            )
        } catch let error as AttachmentError {
            throw StartupError(description: "\(configPath): \(error)", exitCode: 2)
        } catch {
            throw StartupError(description: "setting up bridge '\(configuration.bridge)': \(error)", exitCode: 1)
        }
        defer {
            for failure in attachment.detach() {
                logger.error("could not undo: \(failure)")
            }
        }

        let dataPlane: DataPlane
        do {
            dataPlane = try DataPlane(configuration: configuration, identities: identities, tap: attachment.tap, logger: logger)
        } catch {
            throw StartupError(description: "\(configPath): key 'listen': \(error)", exitCode: 1)
        }
        let reloader = Reloader(running: configuration, configPath: configPath, dataPlane: dataPlane, logger: logger)
        let answers = ControlAnswers(
            configuration: configuration, configurationPath: configPath, tapAddress: tapAddress, siteKey: siteKey, dataPlane: dataPlane,
            startedAt: startedAt, netlink: try Netlink(), reloader: reloader
        )
        let control = try ControlServer(listener: listener, logger: logger, answer: answers.replyLine(to:))
        listenerOwned = false

        if Netlink.runsSpanningTree(bridge: configuration.bridge) == false {
            logger.warning("\(configuration.bridge) runs without spanning tree: a second path between the sites would be a loop that only storm control and flap damping bound; `ip link set \(configuration.bridge) type bridge stp_state 1` on both gateways lets the bridges block it (the tunnel's port costs \(BridgeAttachment.tunnelPathCost), so it is the one blocked)")
        }
        logger.notice("bridging", metadata: [
            "bridge": "\(configuration.bridge) (\(attachment.reclaimedBridge ? "left by a causewayd that did not stop, reclaimed" : attachment.createdBridge ? "created" : "existing"))",
            "lan": "\(configuration.lanInterface)", "tap": "\(attachment.tap.name)",
            "tap-mac": "\(tapAddress)", "listen": "\(configuration.listen)",
            "peers": "\(configuration.peers.map { "\($0.name) (\($0.publicKey.short))" }.joined(separator: ", "))",
            "hub": "\(configuration.hub)", "public-key": "\(siteKey.short)",
            "psk": "\(configuration.presharedKeyFile == nil ? "none" : "yes")", "network-id": "\(configuration.networkID)",
            "control-socket": "\(configuration.controlSocket)",
            "data-plane-threads": "\(dataPlane.lanes.count)\(configuration.dataPlaneThreads == nil ? " (auto, \(cores) cores)" : "")",
            "cipher": "\(configuration.cipher?.rawValue ?? "auto"): accepts \(CipherOffer(setting: configuration.cipher))",
        ])
        if !attachment.migrated.isEmpty {
            logger.notice("moved to \(configuration.bridge) until stop: \(attachment.migrated.joined(separator: ", "))")
        }
        // With no hold time, no claim of the peer is refused: nothing to watch.
        var watcher: LANWatcher?
        if configuration.macHoldTime > .zero {
            do {
                watcher = try LANWatcher(
                    bridge: configuration.bridge, tap: attachment.tap.name, holdTime: configuration.macHoldTime,
                    tableSize: configuration.macTableSize, dataPlane: dataPlane, logger: logger
                )
            } catch {
                logger.warning("cannot watch \(configuration.bridge)'s forwarding database, so hosts seen only by the bridge are not protected from the peer's claims: \(error)")
            }
        }
        dataPlane.start()
        watcher?.start()
        control.start()
        let notifier = SystemdNotifier()
        let supervisor = notifier.map { Supervisor(notifier: $0, dataPlane: dataPlane, watchdog: SystemdNotifier.watchdogInterval()) }
        // The bridge is up and the control socket listens: only now is the service ready.
        notifier?.notify(["READY=1", "STATUS=bridging \(configuration.bridge) to \(configuration.peers.count) \(configuration.peers.count == 1 ? "peer" : "peers"); waiting for them"])
        supervisor?.start()

        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: ShutdownSignal(), successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: ReloadSignal(reloader: reloader)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        defer {
            notifier?.notify(["STOPPING=1", "STATUS=stopping; restoring devices"])
            supervisor?.stop()
            watcher?.stop()
            control.stop()
            dataPlane.stop()
            if let final = dataPlane.latestSnapshot {
                let counters = final.counters
                logger.notice("final state", metadata: [
                    "peers-up": "\(final.peers.filter(\.up).count) of \(final.peers.count)", "macs": "\(final.macTable.entries)",
                    "frames-to-peers": "\(counters.framesToPeer)", "frames-to-lan": "\(counters.framesToLAN)", "drops": "\(counters.drops.total)",
                ])
            }
        }
        try await group.run()
        logger.notice("stopping; restoring devices")
    }

    /// Members of this group may use the control socket (when the group exists).
    public static let controlGroup = "causeway"

    private static func loadConfiguration(_ path: String) throws -> Configuration {
        do {
            return try ConfigurationLoader.load(path: path)
        } catch {
            throw StartupError(description: error.description, exitCode: 2)
        }
    }

    private static func loadIdentities(_ configuration: Configuration, _ path: String) throws -> [SiteIdentity] {
        do {
            return try ConfigurationLoader.loadIdentities(for: configuration, configPath: path)
        } catch {
            throw StartupError(description: error.description, exitCode: 2)
        }
    }
}

/// Returns once SIGTERM or SIGINT asks the daemon to stop; the work itself runs on the
/// data-plane and control threads.
struct ShutdownSignal: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}

/// Reloads the configuration on each SIGHUP, until the daemon stops.
struct ReloadSignal: Service {
    let reloader: Reloader

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = reloader.reload()
        }
    }
}
