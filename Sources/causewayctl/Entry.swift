import ArgumentParser
import CausewayCore

extension Causewayctl {
    /// Before argument-parser: a mistyped subcommand gets a "did you mean" (exit 64), which
    /// argument-parser gives only for options.
    static func main() {
        let subcommands = configuration.subcommands.map { $0._commandName } + ["help"]
        if let message = NameSuggestion.mistypedSubcommand(in: Array(CommandLine.arguments.dropFirst()), subcommands: subcommands) {
            exit(withError: ValidationError(message))
        }
        main(nil)
    }
}
