import ArgumentParser
import CausewayCore
import Foundation

extension Causewayd {
    /// Before argument-parser: no arguments at all is a usage error (64, sysexits'
    /// EX_USAGE), not a help page that exits 0, so a unit or script that lost its arguments
    /// fails; a mistyped subcommand gets a "did you mean", which argument-parser gives only
    /// for options.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty {
            FileHandle.standardError.write(Data((helpMessage() + "\n").utf8))
            exit(withError: ExitCode(64))
        }
        let subcommands = configuration.subcommands.map { $0._commandName } + ["help"]
        if let message = NameSuggestion.mistypedSubcommand(in: arguments, subcommands: subcommands) {
            exit(withError: ValidationError(message))
        }
        await main(nil)
    }
}
