// Hash functions of the language. MD5, SHA-256 and SHA-512 come from swift-crypto: on Linux it
// is BoringSSL, whose assembly uses the CPU's SHA extensions where it has them, and it is
// reviewed and tested far beyond what a copy here could be.
//
// Two hashes stay written out, because no crypto library has them (they are not cryptographic):
// MurmurHash3 x64-128 (seed 0) behind MURMUR64/MURMUR128, printed exactly as the existing tool
// prints it, and Kafka's murmur2 (Hash/Murmur2.swift, the dry run's partitioner), only
// forwarded to here.

internal import Crypto

public enum HashAlgorithm: String, Sendable, CaseIterable {
    case md5 = "MD5", sha256 = "SHA256", sha512 = "SHA512", murmur64 = "MURMUR64", murmur128 = "MURMUR128"

    /// Accepts the spellings the existing tool accepts (case-insensitive, `SHA-256` etc.).
    public init?(name: String) {
        switch name.lowercased() {
        case "md5": self = .md5
        case "sha256", "sha-256": self = .sha256
        case "sha512", "sha-512": self = .sha512
        case "murmur64", "murmur-64": self = .murmur64
        case "murmur128", "murmur-128": self = .murmur128
        default: return nil
        }
    }

    /// The longest hex digest (SHA-512).
    static let maxHexCount = 128

    /// Lower-case hex digest of `bytes`.
    public func hex(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HashAlgorithm.maxHexCount) { buf in
            let n = writeHex(bytes, to: buf.baseAddress!)
            return String(decoding: UnsafeBufferPointer(start: buf.baseAddress!, count: n), as: UTF8.self)
        }
    }

    /// Appends the hex digest of `bytes` to `out` (no copy of the input, the digest on the stack).
    func appendHex(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HashAlgorithm.maxHexCount) { buf in
            let n = writeHex(bytes, to: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: buf.baseAddress!, count: n))
        }
    }

    /// Writes the hex digest (at most `maxHexCount` bytes) to `dst`; returns its length.
    func writeHex(_ bytes: UnsafeBufferPointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        switch self {
        case .md5: return Hashes.digestHex(Insecure.MD5.self, bytes, to: dst)
        case .sha256: return Hashes.digestHex(SHA256.self, bytes, to: dst)
        case .sha512: return Hashes.digestHex(SHA512.self, bytes, to: dst)
        case .murmur64:
            let (h1, _) = Hashes.murmur3x64_128(bytes, seed: 0)
            Hashes.writeHex64(h1, to: dst)
            return 16
        case .murmur128:
            let (h1, h2) = Hashes.murmur3x64_128(bytes, seed: 0)
            Hashes.writeHex64(h2, to: dst)
            Hashes.writeHex64(h1, to: dst + 16)
            return 32
        }
    }

    public func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { hex($0) }
    }
}

public enum Hashes {
    @inline(__always) static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 &+ v : 0x57 &+ v }

    /// Hashes `bytes` where they are (no copy) and writes the digest as hex to `dst`; returns
    /// the hex length. swift-crypto keeps the digest inline; its hasher holds the BoringSSL
    /// context in one small object, the only allocation of a call.
    @inline(__always)
    static func digestHex<H: HashFunction>(_: H.Type, _ bytes: UnsafeBufferPointer<UInt8>,
                                           to dst: UnsafeMutablePointer<UInt8>) -> Int {
        var hasher = H()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
        return hasher.finalize().withUnsafeBytes { digest in
            writeHex(digest.baseAddress!.assumingMemoryBound(to: UInt8.self), digest.count, to: dst)
        }
    }

    static func writeHex(_ src: UnsafePointer<UInt8>, _ n: Int, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        for i in 0..<n {
            dst[2 &* i] = hexDigit(src[i] >> 4)
            dst[2 &* i &+ 1] = hexDigit(src[i] & 15)
        }
        return 2 &* n
    }

    static func writeHex64(_ v: UInt64, to dst: UnsafeMutablePointer<UInt8>) {
        for i in 0..<16 { dst[i] = hexDigit(UInt8(truncatingIfNeeded: (v >> (60 &- 4 &* UInt64(i))) & 15)) }
    }

    // MARK: MurmurHash3 x64-128

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { x << r | x >> (64 - r) }
    @inline(__always) static func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33; k = k &* 0xff51afd7ed558ccd
        k ^= k >> 33; k = k &* 0xc4ceb9fe1a85ec53
        k ^= k >> 33
        return k
    }

    /// Returns (h1, h2). The existing tool prints MURMUR128 as h2‖h1 and MURMUR64 as h1.
    public static func murmur3x64_128(_ data: UnsafeBufferPointer<UInt8>, seed: UInt32) -> (UInt64, UInt64) {
        let c1: UInt64 = 0x87c37b91114253d5, c2: UInt64 = 0x4cf5ad432745937f
        var h1 = UInt64(seed), h2 = UInt64(seed)
        let n = data.count
        func le64(_ o: Int) -> UInt64 {
            UInt64(littleEndian: UnsafeRawPointer(data.baseAddress! + o).loadUnaligned(as: UInt64.self))
        }
        let blocks = n / 16
        for i in 0..<blocks {
            var k1 = le64(16 * i), k2 = le64(16 * i + 8)
            k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
            h1 = rotl(h1, 27); h1 = h1 &+ h2; h1 = h1 &* 5 &+ 0x52dce729
            k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2
            h2 = rotl(h2, 31); h2 = h2 &+ h1; h2 = h2 &* 5 &+ 0x38495ab5
        }
        let tail = 16 * blocks
        var k1: UInt64 = 0, k2: UInt64 = 0
        let rem = n & 15
        if rem > 8 {
            for j in stride(from: rem - 1, through: 8, by: -1) { k2 ^= UInt64(data[tail + j]) << (8 * UInt64(j - 8)) }
            k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2
        }
        if rem > 0 {
            for j in stride(from: min(rem, 8) - 1, through: 0, by: -1) { k1 ^= UInt64(data[tail + j]) << (8 * UInt64(j)) }
            k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
        }
        h1 ^= UInt64(n); h2 ^= UInt64(n)
        h1 = h1 &+ h2; h2 = h2 &+ h1
        h1 = fmix(h1); h2 = fmix(h2)
        h1 = h1 &+ h2; h2 = h2 &+ h1
        return (h1, h2)
    }

    // MARK: Kafka murmur2

    /// The Java client's `Utils.murmur2`; one implementation, the partitioner's.
    public static func kafkaMurmur2(_ data: UnsafeBufferPointer<UInt8>) -> Int32 {
        Murmur2.hash(data)
    }
}
