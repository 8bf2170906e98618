// The control socket server (DESIGN.md §6): a non-blocking Unix stream listener polled by the
// supervisor's loop, one JSON request per line, one reply per line. Malformed requests get an
// error reply; an oversized line gets one too and the connection is closed. Commands that
// change state are refused unless the peer (SO_PEERCRED) is root, the daemon's user, or in the
// daemon's group.
//
// Limits, so that a flood never locks an operator out: a connection that sends no complete
// request for `idleTimeout` is closed; when all `maxClients` places are taken, the connection
// idle the longest is closed to make room; only when every place holds a request in progress is
// a newcomer refused, with a reply that starts with "busy:" (streamforgectl: "daemon busy").

#if canImport(Glibc)
import Glibc
#endif
import StreamForgeCore
import StreamForgeLanguage

package final class ControlServer {
    private final class Client {
        let fd: Int32
        let credentials: PeerCredentials?
        var framer = LineFramer(maxFrameSize: LineFramer.defaultControlLimit)
        var output: [UInt8] = []
        var closeAfterFlush = false
        /// When it connected or last completed a request.
        var lastActive: Duration
        init(fd: Int32, credentials: PeerCredentials?, now: Duration) {
            self.fd = fd
            self.credentials = credentials
            self.lastActive = now
        }
        /// Nothing owed to it: no reply pending.
        var idle: Bool { output.isEmpty && !closeAfterFlush }
    }

    package static let maxClients = 64
    /// A connection without a complete request for this long is closed.
    package let idleTimeout: Duration
    package static let busyMessage = "busy: too many control connections (\(maxClients)); try again"

    package let path: String
    package let listener: Int32
    private var clients: [Int32: Client] = [:]
    private let ownerUid = geteuid()
    private let ownerGid = getegid()

    package init(path: String, idleTimeout: Duration = .seconds(10)) throws(SysError) {
        self.path = path
        self.idleTimeout = idleTimeout
        listener = try UnixSocket.listen(path: path)
    }

    /// Descriptors to poll: the listener, every client (writable when a reply is pending).
    package func register(in poller: inout Poller) {
        poller.add(listener)
        for client in clients.values { poller.add(client.fd, read: true, write: !client.output.isEmpty) }
    }

    /// Serves whatever is ready. `dispatch` runs each well-formed, authorized command.
    package func service(_ poller: Poller, now: Duration, dispatch: (ControlCommand) -> ControlReply) {
        for client in Array(clients.values) where now - client.lastActive >= idleTimeout {
            if client.idle {
                reply(client, .failure("closed: no complete request within \(idleTimeout.secondsText)"))
                client.closeAfterFlush = true
                flush(client, now: now)
            } else {
                drop(client)  // a reply it has not read for that long: it is not reading
            }
        }
        if poller.isReadable(listener) {
            while let fd = UnixSocket.accept(listener) {
                if clients.count >= Self.maxClients, let oldest = clients.values.filter(\.idle).min(by: { $0.lastActive < $1.lastActive }) {
                    reply(oldest, .failure("closed: making room for a new control connection"))
                    oldest.closeAfterFlush = true
                    flush(oldest, now: now)
                    drop(oldest)
                }
                if clients.count >= Self.maxClients {
                    _ = Posix.sendSome(fd, LineCodec.encode(ControlReply.failure(Self.busyMessage))[...])
                    Posix.close(fd)
                    continue
                }
                clients[fd] = Client(fd: fd, credentials: UnixSocket.peerCredentials(fd), now: now)
            }
        }
        for client in Array(clients.values) {
            if poller.isReadable(client.fd) { read(client, now: now, dispatch: dispatch) }
            if clients[client.fd] != nil { flush(client, now: now) }
        }
    }

    private func read(_ client: Client, now: Duration, dispatch: (ControlCommand) -> ControlReply) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        readLoop: while !client.closeAfterFlush {
            switch Posix.read(client.fd, into: &buffer) {
            case .wouldBlock: break readLoop
            case .closed:
                drop(client)
                return
            case .data(let n):
                client.framer.append(buffer[0..<n])
                while true {
                    let line: [UInt8]
                    do {
                        guard let next = try client.framer.next() else { break }
                        line = next
                    } catch {
                        reply(client, .failure("request too large (limit \(LineFramer.defaultControlLimit) bytes)"))
                        client.closeAfterFlush = true
                        break readLoop
                    }
                    client.lastActive = now
                    switch ControlCommand.parse(line) {
                    case .failure(let error):
                        reply(client, .failure(error.message))
                    case .success(let command):
                        if command.changesState && !isAuthorized(client.credentials) {
                            reply(client, .failure("permission denied: '\(command.name)' needs root, the daemon's user or its group"))
                        } else {
                            reply(client, dispatch(command))
                        }
                    }
                }
            }
        }
    }

    package func isAuthorized(_ credentials: PeerCredentials?) -> Bool {
        guard let c = credentials else { return false }
        if c.uid == 0 || c.uid == ownerUid || c.gid == ownerGid { return true }
        return UnixSocket.supplementaryGroups(pid: c.pid).contains(ownerGid)
    }

    private func reply(_ client: Client, _ reply: ControlReply) {
        client.output += LineCodec.encode(reply)
        // Bound what a client that never reads can make us hold.
        if client.output.count > 4 << 20 { drop(client) }
    }

    private func flush(_ client: Client, now: Duration? = nil) {
        if !client.output.isEmpty {
            guard let n = Posix.sendSome(client.fd, client.output[...]) else {
                drop(client)
                return
            }
            client.output.removeFirst(n)
            if n > 0, let now { client.lastActive = now }
        }
        if client.output.isEmpty && client.closeAfterFlush { drop(client) }
    }

    private func drop(_ client: Client) {
        guard clients.removeValue(forKey: client.fd) != nil else { return }
        Posix.close(client.fd)
    }

    /// Closes everything and removes the socket file.
    package func shutdown() {
        for client in Array(clients.values) {
            flush(client)
            drop(client)
        }
        Posix.close(listener)
        unlink(path)
    }
}
