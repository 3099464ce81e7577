import CausewayCore
import CausewayLinux
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// A failure to start, with the exit code that tells its kind.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    /// 2 for a configuration problem, 1 for anything the system refused.
    public let exitCode: Int32
}

/// The control plane of one gateway: sets the devices up, runs the data plane until
/// SIGTERM or SIGINT, and puts everything back.
public enum Daemon {
    /// Validates a configuration, its key and its devices without changing the system.
    public static func check(configPath: String) throws -> Configuration {
        let configuration = try loadConfiguration(configPath)
        _ = try loadKey(configuration, configPath)
        do {
            try BridgeAttachment.preflight(configuration, netlink: try Netlink())
        } catch let error as AttachmentError {
            throw StartupError(description: "\(configPath): \(error)", exitCode: 2)
        }
        return configuration
    }

    public static func run(configPath: String) async throws {
        let configuration = try loadConfiguration(configPath)
        let psk = try loadKey(configuration, configPath)
        var logger = Logger(label: "causewayd")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info

        let attachment: BridgeAttachment
        do {
            attachment = try BridgeAttachment(configuration: configuration, tapAddress: configuration.tapAddress, netlink: try Netlink())
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
            let socket = try UDPSocket(binding: configuration.listen)
            dataPlane = try DataPlane(configuration: configuration, psk: psk, tap: attachment.tap, socket: socket, logger: logger)
        } catch {
            throw StartupError(description: "\(configPath): key 'listen': \(error)", exitCode: 1)
        }
        logger.notice("bridging", metadata: [
            "bridge": "\(configuration.bridge)\(attachment.createdBridge ? " (created)" : " (existing)")",
            "lan": "\(configuration.lanInterface)", "tap": "\(attachment.tap.name)",
            "tap-mac": "\(configuration.tapAddress)", "listen": "\(configuration.listen)",
            "peer": "\(configuration.peer)", "network-id": "\(configuration.networkID)",
        ])
        dataPlane.start()

        let service = BridgeService(dataPlane: dataPlane, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch {
            dataPlane.stop()
            throw error
        }
        dataPlane.stop()
        if let final = dataPlane.latestSnapshot {
            logger.notice("final state: \(StateReport.json(final))")
        }
        logger.notice("stopped; devices restored")
    }

    private static func loadConfiguration(_ path: String) throws -> Configuration {
        do {
            return try ConfigurationLoader.load(path: path)
        } catch {
            throw StartupError(description: error.description, exitCode: 2)
        }
    }

    private static func loadKey(_ configuration: Configuration, _ path: String) throws -> PreSharedKey {
        do {
            return try ConfigurationLoader.loadKey(for: configuration, configPath: path)
        } catch {
            throw StartupError(description: error.description, exitCode: 2)
        }
    }
}

/// Waits for the shutdown signal, and writes the state to the log on SIGUSR1.
struct BridgeService: Service {
    let dataPlane: DataPlane
    let logger: Logger

    func run() async throws {
        let reports = await UnixSignalsSequence(trapping: .sigusr1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in reports.cancelOnGracefulShutdown() {
                    if let snapshot = await dataPlane.snapshot() {
                        logger.notice("state: \(StateReport.json(snapshot))")
                    } else {
                        logger.error("the data plane did not answer a state request")
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// The state as one line of JSON: for the log now, for the control socket later.
enum StateReport {
    static func json(_ snapshot: StatusSnapshot) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(snapshot) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
