import Testing
@testable import StreamForgeCore

@Suite struct HashTests {
    @Test func md5MatchesExistingTool() {
        #expect(HashAlgorithm.md5.hex(Array("user123".utf8)) == "6ad14ba9986e3615423dfca256d04e3f")
        #expect(HashAlgorithm.md5.hex(Array("hello world".utf8)) == "5eb63bbbe01eeed093cb22bb8f5acdc3")
    }
    @Test func sha256MatchesExistingTool() {
        #expect(HashAlgorithm.sha256.hex(Array("user123".utf8)) == "e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446")
        #expect(HashAlgorithm.sha256.hex(Array("hello world".utf8)) == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
    }
    @Test func sha512MatchesReference() {
        #expect(HashAlgorithm.sha512.hex(Array("hello world".utf8)) == "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f")
    }
    @Test func murmurMatchesExistingTool() {
        #expect(HashAlgorithm.murmur128.hex(Array("partition-key".utf8)) == "c989c5aae5a31c2da9c550f9bc135f7b")
        #expect(HashAlgorithm.murmur64.hex(Array("partition-key".utf8)) == "a9c550f9bc135f7b")
    }
}
