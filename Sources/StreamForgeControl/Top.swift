// `streamforgectl top`: `status` redrawn in place every few seconds, like top(1).

import ArgumentParser
import StreamForgeCore
import StreamForgeLanguage
import StreamForgeIPC
#if canImport(Glibc)
import Glibc
#endif

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show status refreshed in place: records/s, lag, records in flight per worker.",
        discussion: "Ctrl-C quits. Without a terminal (a pipe), each refresh is printed after the previous one.")
    @OptionGroup var options: DaemonOptions
    @Option(help: ArgumentHelp("Seconds between refreshes.", valueName: "seconds")) var interval: Double = 2
    @Option(help: ArgumentHelp("Stop after this many refreshes (default: until Ctrl-C).", valueName: "n")) var iterations: Int?

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
    }

    func run() throws {
        let terminal = isatty(1) != 0
        var count = 0
        while iterations.map({ count < $0 }) ?? true {
            count += 1
            var frame = terminal ? "\u{1B}[H\u{1B}[2J" : (count > 1 ? "\n" : "")
            frame += "streamforgectl top: every \(StatusReport.formatRate(interval))s, Ctrl-C to quit\n\n"
            do {
                let reply = try ControlClient.request(.status, socketPath: options.socketPath, timeout: .seconds(options.timeout))
                if case .status(let report)? = reply.result {
                    frame += report.renderText()
                } else {
                    frame += "streamforged refused status: \(reply.error ?? "unknown error")\n"
                }
            } catch {
                // The daemon may be restarting: keep trying, say so on screen.
                frame += "\(error)\n"
            }
            print(frame, terminator: "")
            fflush(nil)  // every stream: the frame shows at once
            if iterations.map({ count >= $0 }) ?? false { break }
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
