#if canImport(Glibc)
import Glibc
#endif
import Logging
import StreamForgeCore

/// One line per event on stderr: `<time> <level> <label>: <message> key=value ...`.
/// Under journald (`JOURNAL_STREAM` set) the line starts with the syslog priority `<N>` and
/// carries no timestamp, so journald keeps levels and times.
struct StderrLogHandler: LogHandler {
    let label: String
    let journald: Bool
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = ""
        if journald {
            line = "<\(priority(event.level))>"
        } else {
            line = rfc3339Now() + " " + event.level.rawValue.uppercased() + " "
        }
        line += "\(label): \(event.message)"
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() {
            let value = "\(merged[key]!)"
            line += value.contains(" ") ? " \(key)=\"\(value)\"" : " \(key)=\(value)"
        }
        line += "\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}

enum Logs {
    static func bootstrap(environment: [String: String]) {
        let journald = environment["JOURNAL_STREAM"] != nil
        let level = environment["STREAMFORGE_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, journald: journald, logLevel: level) }
    }
}
