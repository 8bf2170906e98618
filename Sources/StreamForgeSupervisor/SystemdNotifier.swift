// Talks to systemd through libsystemd's sd_notify: READY=1, STATUS=, WATCHDOG=1, RELOADING=1
// (with MONOTONIC_USEC, as systemd 253+ expects and 252 accepts), STOPPING=1. Without
// NOTIFY_SOCKET (not started by systemd) every call is a no-op.

import StreamForgeIPC
import CSystemd
#if canImport(Glibc)
import Glibc
#endif

public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether the service manager asked for notifications at all.
    public var isEnabled: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// Half of WATCHDOG_USEC, when the watchdog is enabled for this process.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    @discardableResult
    public func send(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    public func ready(status: String? = nil) {
        send("READY=1" + (status.map { "\nSTATUS=\(Self.oneLine($0))" } ?? ""))
    }

    public func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(Posix.microseconds(Posix.monotonicNow()))")
    }

    public func stopping() {
        send("STOPPING=1")
    }

    public func status(_ line: String) {
        send("STATUS=\(Self.oneLine(line))")
    }

    public func watchdog() {
        send("WATCHDOG=1")
    }

    public func notify(_ notification: Notification, status: String?) {
        switch notification {
        case .ready: ready(status: status)
        case .reloading: reloading()
        case .stopping: stopping()
        }
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
