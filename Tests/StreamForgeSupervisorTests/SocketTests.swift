// Component tests over real sockets: the control server on a Unix stream socket, and the
// systemd notifier against a datagram socket standing in for systemd's NOTIFY_SOCKET.

import Foundation
import Glibc
import StreamForgeCore
import Testing
@testable import StreamForgeIPC
@testable import StreamForgeSupervisor

/// A short private directory (sun_path holds about 108 bytes).
func temporaryDirectory() -> String {
    var template = Array("/tmp/sf-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
    return String(decoding: UnsafeRawBufferPointer(start: path, count: strlen(path)), as: UTF8.self)
}

@Suite(.serialized) struct ControlServerTests {
    /// Sends `request` on a fresh connection, serves until a reply line arrives.
    func exchange(_ server: ControlServer, _ request: String, dispatch: (ControlCommand) -> ControlReply) throws -> String {
        let fd = try UnixSocket.connect(path: server.path)
        defer { close(fd) }
        _ = Posix.sendSome(fd, Array(request.utf8)[...])
        Posix.setNonBlocking(fd)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<200 {
            var poller = Poller()
            server.register(in: &poller)
            poller.wait(timeout: .milliseconds(10))
            server.service(poller, now: Posix.monotonicNow(), dispatch: dispatch)
            if case .data(let n) = Posix.read(fd, into: &buffer) { received += buffer[0..<n] }
            if received.filter({ $0 == UInt8(ascii: "\n") }).count >= request.filter({ $0 == "\n" }).count { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test func garbageGetsAnErrorReplyAndTheServerKeepsServing() throws {
        let dir = temporaryDirectory()
        let server = try ControlServer(path: dir + "/control.sock")
        defer { server.shutdown() }
        var calls: [ControlCommand] = []
        let replies = try exchange(server, "garbage\n{\"cmd\":\"status\"\n\u{1}\u{2}\n{\"cmd\":\"pause\"}\n") { command in
            calls.append(command)
            return .success(message: "done")
        }
        let lines = replies.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].contains("\"ok\":false") && lines[0].contains("malformed request"))
        #expect(lines[1].contains("\"ok\":false"))
        #expect(lines[2].contains("\"ok\":false"))
        #expect(lines[3] == "{\"ok\":true,\"result\":{\"message\":\"done\"}}")
        #expect(calls == [.pause])
        // A new client is served normally afterwards.
        let again = try exchange(server, "{\"cmd\":\"status\"}\n") { _ in .success(message: "alive") }
        #expect(again.contains("alive"))
    }

    /// Serves whatever is ready for a few rounds.
    func serve(_ server: ControlServer, rounds: Int = 5, dispatch: (ControlCommand) -> ControlReply = { _ in .success(message: "ok") }) {
        for _ in 0..<rounds {
            var poller = Poller()
            server.register(in: &poller)
            poller.wait(timeout: .milliseconds(10))
            server.service(poller, now: Posix.monotonicNow(), dispatch: dispatch)
        }
    }

    func readAll(_ fd: Int32) -> String {
        Posix.setNonBlocking(fd)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case .data(let n) = Posix.read(fd, into: &buffer) { received += buffer[0..<n] }
        return String(decoding: received, as: UTF8.self)
    }

    @Test func aFloodOfIdleConnectionsNeverLocksOutARequest() throws {
        let dir = temporaryDirectory()
        let server = try ControlServer(path: dir + "/control.sock")
        defer { server.shutdown() }
        var flood: [Int32] = []
        defer { flood.forEach { close($0) } }
        for _ in 0..<(ControlServer.maxClients + 10) {
            flood.append(try UnixSocket.connect(path: server.path))
            serve(server, rounds: 1)
        }
        let reply = try exchange(server, "{\"cmd\":\"status\"}\n") { _ in .success(message: "alive") }
        #expect(reply.contains("alive"), "the oldest idle connection made room")
        // The first ones were closed to make room, with a reply saying why.
        #expect(readAll(flood[0]).contains("making room for a new control connection"))
    }

    @Test func aConnectionWithoutACompleteRequestIsClosedAfterTheIdleTimeout() throws {
        let dir = temporaryDirectory()
        let server = try ControlServer(path: dir + "/control.sock", idleTimeout: .milliseconds(300))
        defer { server.shutdown() }
        let idle = try UnixSocket.connect(path: server.path)
        defer { close(idle) }
        _ = Posix.sendSome(idle, Array("{\"cmd\":".utf8)[...])  // half a request
        serve(server, rounds: 3)
        #expect(readAll(idle).isEmpty, "not yet")
        usleep(400_000)
        serve(server, rounds: 3)
        #expect(readAll(idle).contains("closed: no complete request within 0.3s"))
        var byte: UInt8 = 0
        #expect(recv(idle, &byte, 1, 0) == 0, "and the connection is closed")
    }

    @Test func clientReportsABusyDaemonAsBusyNotUnreachable() throws {
        let dir = temporaryDirectory()
        let path = dir + "/busy.sock"
        let listener = try UnixSocket.listen(path: path)
        defer { close(listener); unlink(path) }
        // A daemon whose places are all taken answers at once and closes.
        let thread = Thread {
            var fd: Int32?
            for _ in 0..<200 where fd == nil {
                fd = UnixSocket.accept(listener)
                if fd == nil { usleep(10_000) }
            }
            guard let fd else { return }
            _ = Posix.sendSome(fd, LineCodec.encode(ControlReply.failure(ControlServer.busyMessage))[...])
            close(fd)
        }
        thread.start()
        do {
            _ = try ControlClient.request(.status, socketPath: path)
            Issue.record("expected busy")
        } catch {
            guard case .busy(let message) = error else { Issue.record("expected busy, got \(error)"); return }
            #expect(message.hasPrefix("streamforged is busy: too many control connections"))
        }
    }

    @Test func theDefaultSocketDirectoryIsCreatedOrReplacedByTheRuntimeDirectory() throws {
        let dir = temporaryDirectory()
        // Another path than the default is used as it is.
        #expect(ControlSocketLocation.resolve(dir + "/c.sock", environment: [:], defaultSocket: dir + "/run/c.sock") == (dir + "/c.sock", nil))
        // The default's directory is created when it may be.
        let created = ControlSocketLocation.resolve(dir + "/run/c.sock", environment: [:], defaultSocket: dir + "/run/c.sock")
        #expect(created.path == dir + "/run/c.sock" && created.note == "created \(dir)/run")
        var st = stat()
        #expect(stat(dir + "/run", &st) == 0)
        // When it cannot be, the socket goes to $XDG_RUNTIME_DIR.
        let missing = dir + "/no/such/parent/c.sock"
        let fallback = ControlSocketLocation.resolve(missing, environment: ["XDG_RUNTIME_DIR": dir], defaultSocket: missing)
        #expect(fallback.path == dir + "/streamforge/control.sock")
        #expect(fallback.note?.contains("using $XDG_RUNTIME_DIR") == true)
        #expect(stat(dir + "/streamforge", &st) == 0)
    }

    @Test func oversizedRequestIsRefusedAndClosed() throws {
        let dir = temporaryDirectory()
        let server = try ControlServer(path: dir + "/control.sock")
        defer { server.shutdown() }
        let huge = String(repeating: "x", count: LineFramer.defaultControlLimit + 10) + "\n"
        let reply = try exchange(server, huge) { _ in .success(message: "never") }
        #expect(reply.contains("request too large"))
    }

    @Test func socketIsGroupReadableOnlyAndStaleSocketIsReplaced() throws {
        let dir = temporaryDirectory()
        let path = dir + "/control.sock"
        let first = try ControlServer(path: path)
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        // A second daemon on the same live socket is refused.
        #expect(throws: SysError.self) { try ControlServer(path: path) }
        close(first.listener) // leaves a stale socket file behind, as a crash would
        let second = try ControlServer(path: path)
        second.shutdown()
        #expect(lstat(path, &st) != 0, "removed on shutdown")
    }

    @Test func stateChangingCommandsNeedAPrivilegedPeer() throws {
        let dir = temporaryDirectory()
        let server = try ControlServer(path: dir + "/control.sock")
        defer { server.shutdown() }
        #expect(server.isAuthorized(PeerCredentials(pid: getpid(), uid: geteuid(), gid: getegid())))
        #expect(server.isAuthorized(PeerCredentials(pid: 0, uid: 0, gid: 12345)))
        #expect(!server.isAuthorized(nil))
        if geteuid() != 0 && geteuid() != 54321 {
            #expect(!server.isAuthorized(PeerCredentials(pid: 0, uid: 54321, gid: 54321)))
        } else {
            // Running as root: any uid other than ours and root, without our group, is refused.
            #expect(!server.isAuthorized(PeerCredentials(pid: 999_999_999, uid: 54321, gid: 54321)))
        }
    }

    @Test func clientReportsUnreachableDaemon() {
        let dir = temporaryDirectory()
        #expect(throws: ControlClientError.self) {
            try ControlClient.request(.status, socketPath: dir + "/absent.sock")
        }
        do {
            _ = try ControlClient.request(.status, socketPath: dir + "/absent.sock")
        } catch {
            guard case .unreachable(let message) = error else { Issue.record("expected unreachable"); return }
            #expect(message.contains("No such file or directory"))
        }
    }
}

@Suite(.serialized) struct SystemdNotifierTests {
    @Test func notificationsReachTheNotifySocket() throws {
        let dir = temporaryDirectory()
        let path = dir + "/notify.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }

        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : "<nothing>"
        }

        let notifier = SystemdNotifier()
        #expect(notifier.isEnabled)
        notifier.ready(status: "2/2 workers up,\n10 records/s")
        #expect(receive() == "READY=1\nSTATUS=2/2 workers up, 10 records/s")
        notifier.status("1/2 workers up")
        #expect(receive() == "STATUS=1/2 workers up")
        notifier.reloading()
        let reloading = receive()
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(UInt64(reloading.split(separator: "=").last ?? "") ?? 0 > 0)
        notifier.watchdog()
        #expect(receive() == "WATCHDOG=1")
        notifier.stopping()
        #expect(receive() == "STOPPING=1")
    }

    @Test func workerEnvironmentDropsNotifySocket() {
        let env = Spawner.workerEnvironment(["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "1",
                                             "PATH": "/usr/bin", "STREAMFORGE_SUPERVISOR_FD": "9"], supervisorPid: 42)
        #expect(env == ["PATH=/usr/bin", "STREAMFORGE_SUPERVISOR_FD=3", "STREAMFORGE_SUPERVISOR_PID=42"])
    }
}
