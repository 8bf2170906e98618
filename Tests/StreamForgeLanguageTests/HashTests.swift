import Testing
@testable import StreamForgeLanguage

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

    /// Lengths around the block and padding boundaries (one or two padding blocks, whole
    /// blocks read straight from the input); digests from coreutils' md5sum, sha256sum, sha512sum
    /// of that many `a`.
    @Test func digestsAtBlockBoundaries() {
        let vectors: [(Int, String, String, String)] = [
            (0, "d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
            (1, "0cc175b9c0f1b6a831c399e269772661", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
             "1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f5302860c652bf08d560252aa5e74210546f369fbbbce8c12cfc7957b2652fe9a75"),
            (55, "ef1772b6dff9a122358552954ad0df65", "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
             "b0220c772cbf6c1822e2cb38a437d0e1d58772417a4bbb21c961364f8b6143e05aa6316dca8d1d7b19e16448419076395f6086cb55101fbd6d5497b148e1745f"),
            (56, "3b0c8ac703f828b04c6c197006d17218", "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
             "962b64aae357d2a4fee3ded8b539bdc9d325081822b0bfc55583133aab44f18bafe11d72a7ae16c79ce2ba620ae2242d5144809161945f1367f41b3972e26e04"),
            (63, "b06521f39153d618550606be297466d5", "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
             "c1b0f5c6d3b03dfe4a2602e67242f54e344090b66e01100a469b129f583f016c7e27dddeaa438393dcc7ec54b0b57c9ba7af007f9b56db5f6fb677d972a31362"),
            (64, "014842d480b571495a4a0363793f7367", "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
             "01d35c10c6c38c2dcf48f7eebb3235fb5ad74a65ec4cd016e2354c637a8fb49b695ef3c1d6f7ae4cd74d78cc9c9bcac9d4f23a73019998a7f73038a5c9b2dbde"),
            (111, "089f243d1e831c5879aa375ee364a06e", "6374f73208854473827f6f6a3f43b1f53eaa3b82c21c1a6d69a2110b2a79baad",
             "fa9121c7b32b9e01733d034cfc78cbf67f926c7ed83e82200ef86818196921760b4beff48404df811b953828274461673c68d04e297b0eb7b2b4d60fc6b566a2"),
            (112, "9146ef3527c7cfcc66dc615c3986e391", "f54353008a2553262ecdc4a34749563ba0950e8b0fc8652780b0a614b99683c1",
             "c01d080efd492776a1c43bd23dd99d0a2e626d481e16782e75d54c2503b5dc32bd05f0f1ba33e568b88fd2d970929b719ecbb152f58f130a407c8830604b70ca"),
            (119, "8a7bd0732ed6a28ce75f6dabc90e1613", "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
             "130396a75cb483f2eee8c56d8a668bb3d2641f5243212c0bee2bd33da096ad9eb8179fe18f9eaacf76e09fae9de4c3f14ba13341e345be05bf76c182cc3468cb"),
            (120, "5f61c0ccad4cac44c75ff505e1f1e537", "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
             "f241de612b01aa2fa3cf01531d2a8e5e17fc761dfd48a704a834a47f57d6eade7804ecc39be42fdef16ec6adeaf7c01c2fd0c4cc97d3860907cfa4a3b36d0c05"),
            (127, "020406e1d05cdc2aa287641f7ae2cc39", "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a",
             "828613968b501dc00a97e08c73b118aa8876c26b8aac93df128502ab360f91bab50a51e088769a5c1eff4782ace147dce3642554199876374291f5d921629502"),
            (128, "e510683b3f5ffe4093d021808bc6ff70", "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e",
             "b73d1929aa615934e61a871596b3f3b33359f42b8175602e89f7e06e5f658a243667807ed300314b95cacdd579f3e33abdfbe351909519a846d465c59582f321"),
            (200, "887f30b43b2867f4a9accceee7d16e6c", "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5",
             "4b11459c33f52a22ee8236782714c150a3b2c60994e9acee17fe68947a3e6789f31e7668394592da7bef827cddca88c4e6f86e4df7ed1ae6cba71f3e98faee9f"),
        ]
        for (n, md5, sha256, sha512) in vectors {
            let input = [UInt8](repeating: 0x61, count: n)
            #expect(HashAlgorithm.md5.hex(input) == md5, "MD5 of \(n) bytes")
            #expect(HashAlgorithm.sha256.hex(input) == sha256, "SHA-256 of \(n) bytes")
            #expect(HashAlgorithm.sha512.hex(input) == sha512, "SHA-512 of \(n) bytes")
        }
    }

    @Test func hashTransformOfEscapedAndPlainStrings() throws {
        // A string with escapes hashes its decoded bytes, one without is hashed in place.
        #expect(try transformed("HASH:SHA256,/s", #"{"s":"user123"}"#) == "\"e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446\"")
        #expect(try transformed("HASH:SHA256,/s", #"{"s":"user\u0031\u00323"}"#) == "\"e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446\"")
        #expect(try transformed("HASH:MD5,/s,h", #"{"s":"user123"}"#) == #"{"s":"user123","h":"6ad14ba9986e3615423dfca256d04e3f"}"#)
    }
}
