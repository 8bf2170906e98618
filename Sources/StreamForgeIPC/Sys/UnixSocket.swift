// Unix stream sockets for the control protocol: the listening socket (mode 0660), peer
// credentials (SO_PEERCRED) and the blocking client `streamforgectl` uses.

import StreamForgeCore

#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a Unix socket, from SO_PEERCRED.
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// struct ucred of <sys/socket.h> (hidden behind _GNU_SOURCE from Swift).
private struct UCred {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

package enum UnixSocket {
    static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    private static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) throws(SysError) -> R {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathLength else {
            throw SysError("use socket path \(path)", code: ENAMETOOLONG)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Connects a blocking client socket.
    package static func connect(path: String) throws(SysError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError("create a socket") }
        let rc = try withAddress(path) { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let code = errno
            Posix.close(fd)
            throw SysError("connect to \(path)", code: code)
        }
        return fd
    }

    /// Listens at `path` with mode `mode`. A stale socket file (nobody listening) is replaced;
    /// a live one is an error (another daemon owns it).
    package static func listen(path: String, mode: UInt32 = 0o660) throws(SysError) -> Int32 {
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw SysError("listen on \(path): it exists and is not a socket", code: EEXIST)
            }
            if let probe = try? connect(path: path) {
                Posix.close(probe)
                throw SysError("listen on \(path): another streamforged is running", code: EADDRINUSE)
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError("create a socket") }
        // Bind with no permission for others, then open it up to the group: no window where
        // the socket is wider than `mode`.
        let old = umask(0o177)
        let rc = try withAddress(path) { bind(fd, $0, $1) }
        let bindErrno = errno
        umask(old)
        guard rc == 0 else {
            Posix.close(fd)
            throw SysError("bind \(path)", code: bindErrno)
        }
        guard chmod(path, mode) == 0, Glibc.listen(fd, 64) == 0 else {
            let code = errno
            Posix.close(fd)
            unlink(path)
            throw SysError("listen on \(path)", code: code)
        }
        Posix.setNonBlocking(fd)
        return fd
    }

    /// Accepts one connection (non-blocking, close-on-exec), nil when none is pending.
    package static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                Posix.setCloseOnExec(fd)
                Posix.setNonBlocking(fd)
                return fd
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    package static func peerCredentials(_ fd: Int32) -> PeerCredentials? {
        var cred = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) == 0 else { return nil }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    /// Supplementary groups of a process, from /proc/PID/status (empty when unknown).
    package static func supplementaryGroups(pid: Int32) -> [UInt32] {
        let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { Posix.close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < 1 << 16 {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return [] }
        return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    }
}
