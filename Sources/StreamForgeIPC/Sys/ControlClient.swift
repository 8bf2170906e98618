// The client side of the control protocol, for `streamforgectl` and the tests: connect, send
// one request line, read one reply line.

#if canImport(Glibc)
import Glibc
#endif
import StreamForgeCore
import StreamForgeLanguage

public enum ControlClientError: Error, CustomStringConvertible, Sendable {
    /// Nothing listens at the socket, or we may not connect to it.
    case unreachable(String)
    /// Connected, but no well-formed reply came back.
    case protocolError(String)
    /// The daemon answers but has no room for another control connection now.
    case busy(String)

    public var description: String {
        switch self {
        case .unreachable(let m), .protocolError(let m), .busy(let m): return m
        }
    }
}

public enum ControlClient {
    /// The default socket, or `STREAMFORGE_CONTROL_SOCKET`.
    public static let defaultSocketPath = "/run/streamforge/control.sock"
    public static let socketEnvironmentVariable = "STREAMFORGE_CONTROL_SOCKET"

    public static func request(_ command: ControlCommand, socketPath: String,
                               timeout: Duration = .seconds(30)) throws(ControlClientError) -> ControlReply {
        try exchange(LineCodec.encode(command), socketPath: socketPath, timeout: timeout)
    }

    /// Sends raw bytes (a request line) and reads one reply line.
    public static func exchange(_ bytes: [UInt8], socketPath: String,
                                timeout: Duration = .seconds(30)) throws(ControlClientError) -> ControlReply {
        let line = try exchangeRaw(bytes, socketPath: socketPath, timeout: timeout)
        let reply: ControlReply
        do {
            reply = try LineCodec.decode(ControlReply.self, from: line)
        } catch {
            throw .protocolError("unable to read the reply from streamforged: \(error)")
        }
        if !reply.ok, let message = reply.error, message.hasPrefix("busy:") {
            throw .busy("streamforged is busy: " + message.dropFirst("busy:".count).trimmingPrefixSpaces())
        }
        return reply
    }

    /// Sends raw bytes and returns the first reply line as received.
    public static func exchangeRaw(_ bytes: [UInt8], socketPath: String,
                                   timeout: Duration = .seconds(30)) throws(ControlClientError) -> [UInt8] {
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath)
        } catch {
            throw .unreachable("unable to connect to streamforged at \(socketPath): \(Posix.errorString(error.code))")
        }
        defer { Posix.close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var offset = 0
        var sendError: Int32?
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                // The daemon may have answered and closed already (a "busy" refusal): read it.
                sendError = errno
                break
            }
            offset += n
        }
        var framer = LineFramer(maxFrameSize: 16 << 20)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let line = try framer.next() { return line }
            } catch {
                throw .protocolError("reply from streamforged too large")
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw .protocolError("no reply from streamforged within \(timeout.components.seconds)s")
            }
            guard n > 0 else {
                if let sendError {
                    throw .unreachable("unable to send the request to streamforged: \(Posix.errorString(sendError))")
                }
                throw .protocolError("streamforged closed the connection without a reply")
            }
            framer.append(buffer[0..<n])
        }
    }
}

extension Substring {
    func trimmingPrefixSpaces() -> String { String(drop { $0 == " " }) }
}

/// Where the control socket goes when the configuration keeps the default and
/// /run/streamforge does not exist (a host without the package): the directory is created when
/// the daemon may (root), else the socket goes to `$XDG_RUNTIME_DIR/streamforge/`.
public enum ControlSocketLocation {
    public static let defaultDirectory = "/run/streamforge"

    /// The socket to listen on, and a note for the log when it is not the configured one.
    public static func resolve(_ configured: String, environment: [String: String],
                               defaultSocket: String = ControlClient.defaultSocketPath) -> (path: String, note: String?) {
        guard configured == defaultSocket else { return (configured, nil) }
        let defaultDirectory = String(defaultSocket[..<(defaultSocket.lastIndex(of: "/") ?? defaultSocket.endIndex)])
        var st = stat()
        if stat(defaultDirectory, &st) == 0 { return (configured, nil) }
        if mkdir(defaultDirectory, 0o755) == 0 {
            return (configured, "created \(defaultDirectory)")
        }
        guard let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else {
            return (configured, "\(defaultDirectory) does not exist and cannot be created (\(Posix.errorString(errno))); set control_socket or XDG_RUNTIME_DIR")
        }
        let directory = runtime + "/streamforge"
        _ = mkdir(directory, 0o700)
        return (directory + "/control.sock", "\(defaultDirectory) does not exist and cannot be created: using $XDG_RUNTIME_DIR")
    }

    /// The socket `streamforgectl` talks to by default: the fallback the daemon used, when the
    /// default directory is missing and the fallback exists.
    public static func clientDefault(environment: [String: String]) -> String {
        var st = stat()
        if stat(defaultDirectory, &st) != 0, let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            let fallback = runtime + "/streamforge/control.sock"
            if stat(fallback, &st) == 0 { return fallback }
        }
        return ControlClient.defaultSocketPath
    }
}
