// The supervisor's HTTP endpoint: `/metrics`, `/healthz`, `/readyz`, served from its poll loop.
//
// Written by hand, not with swift-nio or an HTTP framework: it answers one GET per scrape or
// probe and closes the connection, on the supervisor's single thread beside the control
// socket; an event-loop library would add threads, minutes of build time and megabytes to the
// binary for ~150 lines of request-line parsing. It reads the request head (at most 8 KiB),
// answers GET and HEAD, and closes after the reply (`Connection: close`). Connections idle for
// `idleTimeout` are closed; when `maxClients` are open, the oldest one makes room.

import StreamForgeIPC
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP response.
struct HTTPResponse: Equatable {
    var status: Int
    var contentType: String
    var body: String

    static func text(_ body: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }

    var reason: String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

final class HTTPEndpoint {
    private final class Client {
        let fd: Int32
        var input: [UInt8] = []
        var output: [UInt8] = []
        var answered = false
        let openedAt: Duration
        init(fd: Int32, now: Duration) {
            self.fd = fd
            openedAt = now
        }
    }

    static let maxClients = 32
    static let maxRequestHead = 8192
    let listen: String
    let listener: Int32
    let idleTimeout: Duration
    private var clients: [Int32: Client] = [:]

    init(listen: String, idleTimeout: Duration = .seconds(5)) throws(SysError) {
        self.listen = listen
        self.idleTimeout = idleTimeout
        listener = try TCPSocket.listen(listen)
    }

    /// The port it listens on.
    var port: Int? { TCPSocket.localPort(listener) }

    /// `listen` with the port actually bound (port 0 asks the kernel for one).
    var boundAddress: String {
        guard let (host, _) = TCPSocket.split(listen), let port else { return listen }
        return (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    func register(in poller: inout Poller) {
        poller.add(listener)
        for client in clients.values { poller.add(client.fd, read: !client.answered, write: !client.output.isEmpty) }
    }

    /// Accepts, reads requests, answers them with `respond(method, path)`.
    func service(_ poller: Poller, now: Duration, respond: (String, String) -> HTTPResponse) {
        for client in Array(clients.values) where now - client.openedAt >= idleTimeout { drop(client) }
        if poller.isReadable(listener) {
            while let fd = UnixSocket.accept(listener) {
                if clients.count >= Self.maxClients, let oldest = clients.values.min(by: { $0.openedAt < $1.openedAt }) {
                    drop(oldest)
                }
                clients[fd] = Client(fd: fd, now: now)
            }
        }
        for client in Array(clients.values) {
            if !client.answered && poller.isReadable(client.fd) { read(client, respond: respond) }
            if clients[client.fd] != nil && !client.output.isEmpty { flush(client) }
        }
    }

    private func read(_ client: Client, respond: (String, String) -> HTTPResponse) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !client.answered {
            switch Posix.read(client.fd, into: &buffer) {
            case .wouldBlock: return
            case .closed:
                drop(client)
                return
            case .data(let n):
                client.input += buffer[0..<n]
                if let head = Self.requestHead(client.input) {
                    answer(client, Self.handle(head, respond: respond))
                } else if client.input.count > Self.maxRequestHead {
                    answer(client, .text("request head too large\n", status: 431), headOnly: false)
                }
            }
        }
    }

    /// The request head, once "\r\n\r\n" (or "\n\n") arrived.
    static func requestHead(_ bytes: [UInt8]) -> String? {
        // The head ends at the first empty line (CRLF CRLF, or LF LF from lenient clients).
        var i = 0
        let limit = min(bytes.count, maxRequestHead + 4)
        while i < limit {
            if bytes[i] == 0x0A {
                if i + 1 < limit && bytes[i + 1] == 0x0A { return String(decoding: bytes[..<i], as: UTF8.self) }
                if i + 2 < limit && bytes[i + 1] == 0x0D && bytes[i + 2] == 0x0A {
                    return String(decoding: bytes[..<i], as: UTF8.self)
                }
            }
            i += 1
        }
        return nil
    }

    /// Routes a request head; HEAD is GET without the body.
    static func handle(_ head: String, respond: (String, String) -> HTTPResponse) -> (HTTPResponse, Bool) {
        let requestLine = head.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return (.text("malformed request line\n", status: 400), false) }
        let method = String(parts[0])
        guard method == "GET" || method == "HEAD" else { return (.text("only GET and HEAD\n", status: 405), false) }
        var path = String(parts[1])
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        return (respond(method, path), method == "HEAD")
    }

    private func answer(_ client: Client, _ routed: (HTTPResponse, Bool)) {
        answer(client, routed.0, headOnly: routed.1)
    }

    private func answer(_ client: Client, _ response: HTTPResponse, headOnly: Bool) {
        client.answered = true
        let body = Array(response.body.utf8)
        var head = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
        head += "Content-Type: \(response.contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        head += "Connection: close\r\n\r\n"
        client.output = Array(head.utf8) + (headOnly ? [] : body)
        flush(client)
    }

    private func flush(_ client: Client) {
        guard let n = Posix.sendSome(client.fd, client.output[...]) else {
            drop(client)
            return
        }
        client.output.removeFirst(n)
        if client.output.isEmpty && client.answered { drop(client) }
    }

    private func drop(_ client: Client) {
        guard clients.removeValue(forKey: client.fd) != nil else { return }
        Posix.close(client.fd)
    }

    func shutdown() {
        for client in Array(clients.values) { drop(client) }
        Posix.close(listener)
    }
}
