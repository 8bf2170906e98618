// TCP listening sockets for the metrics endpoint: `host:port` resolved with getaddrinfo
// (IPv4, IPv6 in brackets, or a name), non-blocking, close-on-exec, SO_REUSEADDR.

import StreamForgeIPC
#if canImport(Glibc)
import Glibc
#endif

enum TCPSocket {
    /// Splits `host:port` / `[v6]:port`.
    static func split(_ listen: String) -> (host: String, port: String)? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        var host = String(listen[..<colon])
        let port = String(listen[listen.index(after: colon)...])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !port.isEmpty else { return nil }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Listens on `listen` (`127.0.0.1:9464`, `[::]:9464`, `localhost:9464`).
    static func listen(_ listen: String, backlog: Int32 = 64) throws(SysError) -> Int32 {
        guard let (host, port) = split(listen) else { throw SysError("listen on \(listen): expected host:port", code: EINVAL) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &result)
        guard rc == 0, let first = result else {
            throw SysError("resolve \(listen): \(String(cString: gai_strerror(rc)))", code: EINVAL)
        }
        defer { freeaddrinfo(result) }
        var lastError: Int32 = EADDRNOTAVAIL
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            info = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, Glibc.listen(fd, backlog) == 0 {
                Posix.setNonBlocking(fd)
                return fd
            }
            lastError = errno
            Posix.close(fd)
        }
        throw SysError("listen on \(listen)", code: lastError)
    }

    /// The port a listening socket got (for port 0 in tests).
    static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return nil
        }
    }
}
