import ArgumentParser
import CausewayCore
import CausewayDaemon
import Foundation
import Logging

@main
struct Causewayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causewayd",
        abstract: "Joins this site's LAN to a peer site's LAN over an encrypted UDP link.",
        subcommands: [Run.self, Check.self, GenKey.self]
    )
}

/// Exits with the startup error's code after printing it, so a bad configuration is one
/// clear line on stderr rather than a stack of wrapped errors.
func exitOnStartupError<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StartupError {
        printError("causewayd: \(error.description)")
        throw ExitCode(error.exitCode)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Causewayd {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set up the bridge and carry frames until SIGTERM or SIGINT.")

        @Option(name: .shortAndLong, help: "The site's TOML configuration file.")
        var config: String

        func run() async throws {
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
            try await exitOnStartupError { try await Daemon.run(configPath: config) }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration, its key file and its devices without changing anything.")

        @Option(name: .shortAndLong, help: "The site's TOML configuration file.")
        var config: String

        func run() async throws {
            let checked = try await exitOnStartupError { try Daemon.check(configPath: config) }
            print("\(config): OK — bridge \(checked.bridge), LAN \(checked.lanInterface), TAP \(checked.tap) (\(checked.tapAddress)), listen \(checked.listen), peer \(checked.peer)")
        }
    }

    struct GenKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "genkey",
            abstract: "Write a new random pre-shared key (base64): to a new file with mode 0600, or to stdout."
        )

        @Argument(help: "A file to create; it must not exist yet.")
        var output: String?

        func run() throws {
            guard let output else {
                print(PreSharedKey.random().base64)
                return
            }
            do {
                try ConfigurationLoader.writeNewKey(to: output)
            } catch {
                printError("causewayd: \(output): \(error)")
                throw ExitCode(1)
            }
        }
    }
}
