import ArgumentParser
import StreamForgeCore
import StreamForgeLanguage

extension ArgumentParser.ExitCode {
    /// The command's exit status, as StreamForge numbers it.
    init(_ code: StreamForgeCore.ExitCode) { self.init(code.rawValue) }
}
