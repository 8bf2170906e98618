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

    @Test func partitionIsPositiveHashModuloCount() {
        let key = Array("foobar".utf8)
        #expect(Murmur2.partition(forKey: key, partitionCount: 7) == Int32((-790_332_482 & 0x7fff_ffff) % 7))
        #expect(Murmur2.partition(forKey: [UInt8](), partitionCount: 3) >= 0)
    }
}
