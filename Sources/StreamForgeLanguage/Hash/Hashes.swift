// Hash functions of the language, written out so the package needs no crypto library:
// MD5 (RFC 1321), SHA-256 and SHA-512 (FIPS 180-4), MurmurHash3 x64-128 (seed 0) and the
// Kafka Java client's murmur2.

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

    /// Lower-case hex digest of `bytes`.
    public func hex(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { buf in
            let n = writeHex(bytes, to: buf.baseAddress!)
            return String(decoding: UnsafeBufferPointer(start: buf.baseAddress!, count: n), as: UTF8.self)
        }
    }

    /// Appends the hex digest of `bytes` to `out` (no copy of the input, the digest on the stack).
    func appendHex(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { buf in
            let n = writeHex(bytes, to: buf.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(start: buf.baseAddress!, count: n))
        }
    }

    /// Writes the hex digest (at most 128 bytes) to `dst`, which has room for 192 (the binary
    /// digest goes to `dst + 128` first); returns its length.
    func writeHex(_ bytes: UnsafeBufferPointer<UInt8>, to dst: UnsafeMutablePointer<UInt8>) -> Int {
        switch self {
        case .md5:
            Hashes.md5(bytes, into: dst + 128)
            return Hashes.writeHex(dst + 128, 16, to: dst)
        case .sha256:
            Hashes.sha256(bytes, into: dst + 128)
            return Hashes.writeHex(dst + 128, 32, to: dst)
        case .sha512:
            Hashes.sha512(bytes, into: dst + 128)
            return Hashes.writeHex(dst + 128, 64, to: dst)
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

    public static func hex(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: bytes.count * 2)
        for (i, b) in bytes.enumerated() {
            out[2 * i] = hexDigit(b >> 4)
            out[2 * i + 1] = hexDigit(b & 15)
        }
        return String(decoding: out, as: UTF8.self)
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

    static func hex64(_ v: UInt64) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf in
            writeHex64(v, to: buf.baseAddress!)
            return String(decoding: UnsafeBufferPointer(buf), as: UTF8.self)
        }
    }

    /// A table in memory of its own, read without bounds checks or reference counting.
    static func table<T>(_ values: [T]) -> UnsafePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        p.initialize(from: values, count: values.count)
        return UnsafePointer(p)
    }

    /// Feeds `bytes` and the Merkle–Damgård padding to `compress` one block at a time: whole
    /// blocks straight from the input, the last one or two from a buffer on the stack.
    @inline(__always)
    static func forEachBlock(_ bytes: UnsafeBufferPointer<UInt8>, blockSize: Int, lengthBytes: Int, bigEndian: Bool,
                             _ compress: (UnsafePointer<UInt8>) -> Void) {
        let n = bytes.count
        let full = n / blockSize
        if let base = bytes.baseAddress {
            for b in 0..<full { compress(base + b &* blockSize) }
        }
        let rest = n &- full &* blockSize
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { tail in
            let t = tail.baseAddress!
            let fullBytes: Int = full &* blockSize
            if rest > 0 { t.update(from: bytes.baseAddress! + fullBytes, count: rest) }
            t[rest] = 0x80
            let needed: Int = rest &+ 1 &+ lengthBytes
            let total: Int = needed <= blockSize ? blockSize : 2 &* blockSize
            let zeros: Int = total &- rest &- 1
            (t + (rest &+ 1)).update(repeating: 0, count: zeros)
            let bitLen = UInt64(n) &* 8
            let lengthAt: Int = total &- 8
            for i in 0..<8 {
                let shift: UInt64 = bigEndian ? UInt64(56 &- 8 &* i) : UInt64(8 &* i)
                t[lengthAt &+ i] = UInt8(truncatingIfNeeded: bitLen >> shift)
            }
            compress(UnsafePointer(t))
            if total > blockSize { compress(UnsafePointer(t + blockSize)) }
        }
    }

    // MARK: MD5

    static let md5S: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                                 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    static let md5K: [UInt32] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ]

    nonisolated(unsafe) static let md5Kp = table(md5K)
    nonisolated(unsafe) static let md5Sp = table(md5S)

    public static func md5(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { d in
            md5(bytes, into: d.baseAddress!)
            return Array(d)
        }
    }

    /// The 16-byte digest into `out`.
    static func md5(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        var a0: UInt32 = 0x67452301, b0: UInt32 = 0xefcdab89, c0: UInt32 = 0x98badcfe, d0: UInt32 = 0x10325476
        let k = md5Kp, s = md5Sp
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { mb in
            let m = mb.baseAddress!
            forEachBlock(bytes, blockSize: 64, lengthBytes: 8, bigEndian: false) { block in
                for i in 0..<16 {
                    m[i] = UInt32(littleEndian: UnsafeRawPointer(block + 4 &* i).loadUnaligned(as: UInt32.self))
                }
                var a = a0, b = b0, c = c0, d = d0
                for i in 0..<64 {
                    var f: UInt32
                    let g: Int
                    switch i {
                    case 0..<16: f = (b & c) | (~b & d); g = i
                    case 16..<32: f = (d & b) | (~d & c); g = (5 &* i &+ 1) & 15
                    case 32..<48: f = b ^ c ^ d; g = (3 &* i &+ 5) & 15
                    default: f = c ^ (b | ~d); g = (7 &* i) & 15
                    }
                    f = f &+ a &+ k[i] &+ m[g]
                    a = d; d = c; c = b
                    b = b &+ (f << s[i] | f >> (32 &- s[i]))
                }
                a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
            }
        }
        for (j, v) in [a0, b0, c0, d0].enumerated() {
            UnsafeMutableRawPointer(out + 4 &* j).storeBytes(of: v.littleEndian, as: UInt32.self)
        }
    }

    // MARK: SHA-256

    static let k256: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always) static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
    @inline(__always) static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { x >> n | x << (64 - n) }

    nonisolated(unsafe) static let k256p = table(k256)

    public static func sha256(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { d in
            sha256(bytes, into: d.baseAddress!)
            return Array(d)
        }
    }

    /// The 32-byte digest into `out`; state and message schedule on the stack.
    static func sha256(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        let k = k256p
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 72) { buf in
            let h = buf.baseAddress!, w = h + 8
            h[0] = 0x6a09e667; h[1] = 0xbb67ae85; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a
            h[4] = 0x510e527f; h[5] = 0x9b05688c; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19
            forEachBlock(bytes, blockSize: 64, lengthBytes: 8, bigEndian: true) { block in
                for i in 0..<16 {
                    w[i] = UInt32(bigEndian: UnsafeRawPointer(block + 4 &* i).loadUnaligned(as: UInt32.self))
                }
                for i in 16..<64 {
                    let s0 = rotr(w[i &- 15], 7) ^ rotr(w[i &- 15], 18) ^ (w[i &- 15] >> 3)
                    let s1 = rotr(w[i &- 2], 17) ^ rotr(w[i &- 2], 19) ^ (w[i &- 2] >> 10)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
                h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
            }
            for j in 0..<8 { UnsafeMutableRawPointer(out + 4 &* j).storeBytes(of: h[j].bigEndian, as: UInt32.self) }
        }
    }

    // MARK: SHA-512

    static let k512: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    nonisolated(unsafe) static let k512p = table(k512)

    public static func sha512(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { d in
            sha512(bytes, into: d.baseAddress!)
            return Array(d)
        }
    }

    /// The 64-byte digest into `out`; state and message schedule on the stack.
    static func sha512(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        let k = k512p
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 88) { buf in
            let h = buf.baseAddress!, w = h + 8
            h[0] = 0x6a09e667f3bcc908; h[1] = 0xbb67ae8584caa73b; h[2] = 0x3c6ef372fe94f82b; h[3] = 0xa54ff53a5f1d36f1
            h[4] = 0x510e527fade682d1; h[5] = 0x9b05688c2b3e6c1f; h[6] = 0x1f83d9abfb41bd6b; h[7] = 0x5be0cd19137e2179
            forEachBlock(bytes, blockSize: 128, lengthBytes: 16, bigEndian: true) { block in
                for i in 0..<16 {
                    w[i] = UInt64(bigEndian: UnsafeRawPointer(block + 8 &* i).loadUnaligned(as: UInt64.self))
                }
                for i in 16..<80 {
                    let s0 = rotr(w[i &- 15], 1) ^ rotr(w[i &- 15], 8) ^ (w[i &- 15] >> 7)
                    let s1 = rotr(w[i &- 2], 19) ^ rotr(w[i &- 2], 61) ^ (w[i &- 2] >> 6)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
                for i in 0..<80 {
                    let s1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
                h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
            }
            for j in 0..<8 { UnsafeMutableRawPointer(out + 8 &* j).storeBytes(of: h[j].bigEndian, as: UInt64.self) }
        }
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

    /// The Java client's `Utils.murmur2` (seed 0x9747b28c); partition = (h & 0x7fffffff) % n.
    public static func kafkaMurmur2(_ data: UnsafeBufferPointer<UInt8>) -> Int32 {
        let m: UInt32 = 0x5bd1e995
        let r: UInt32 = 24
        let n = data.count
        var h: UInt32 = 0x9747b28c ^ UInt32(truncatingIfNeeded: n)
        let n4 = n / 4
        for i in 0..<n4 {
            let o = 4 * i
            var k = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
            k = k &* m; k ^= k >> r; k = k &* m
            h = h &* m; h ^= k
        }
        let t = 4 * n4
        switch n % 4 {
        case 3:
            h ^= UInt32(data[t + 2]) << 16; h ^= UInt32(data[t + 1]) << 8; h ^= UInt32(data[t]); h = h &* m
        case 2:
            h ^= UInt32(data[t + 1]) << 8; h ^= UInt32(data[t]); h = h &* m
        case 1:
            h ^= UInt32(data[t]); h = h &* m
        default: break
        }
        h ^= h >> 13; h = h &* m; h ^= h >> 15
        return Int32(bitPattern: h)
    }
}
