import StreamForgeLanguage
import Testing

@Suite struct Murmur2Tests {
    /// Vectors from the Java client's own murmur2 tests: keys must land where Java producers put them.
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func matchesJavaClientVectors(key: String, expected: Int32) {
        #expect(Murmur2.hash(Array(key.utf8)) == expected)
    }

    /// Java's `Utils.murmur2` transcribed byte by byte: every tail length (the Java vectors have
    /// no 1-byte tail), and bytes that are not contiguous (hashed through a copy).
    @Test func hashesEveryTailLengthAndNonContiguousBytesLikeJava() {
        func java(_ data: [UInt8]) -> Int32 {
            let m: UInt32 = 0x5bd1_e995
            var h: UInt32 = 0x9747_b28c ^ UInt32(data.count)
            for i in 0..<data.count / 4 {
                var k = UInt32(data[4 * i]) + UInt32(data[4 * i + 1]) << 8 + UInt32(data[4 * i + 2]) << 16 + UInt32(data[4 * i + 3]) << 24
                k = k &* m; k ^= k >> 24; k = k &* m
                h = h &* m; h ^= k
            }
            let t = data.count & ~3
            if data.count % 4 == 3 { h ^= UInt32(data[t + 2]) << 16 }
            if data.count % 4 >= 2 { h ^= UInt32(data[t + 1]) << 8 }
            if data.count % 4 >= 1 { h ^= UInt32(data[t]); h = h &* m }
            h ^= h >> 13; h = h &* m; h ^= h >> 15
            return Int32(bitPattern: h)
        }
        for n in 0...17 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 200) }
            #expect(Murmur2.hash(bytes) == java(bytes), "\(n) bytes")
            #expect(Murmur2.hash(bytes.lazy.map { $0 }) == java(bytes), "\(n) bytes, not contiguous")
        }
    }

    @Test func partitionIsPositiveHashModuloCount() {
        let key = Array("foobar".utf8)
        #expect(Murmur2.partition(forKey: key, partitionCount: 7) == Int32((-790_332_482 & 0x7fff_ffff) % 7))
        #expect(Murmur2.partition(forKey: [UInt8](), partitionCount: 3) >= 0)
    }
}
