import Testing
@testable import StreamForgeCore
@testable import StreamForgeLanguage

@Suite struct TransformTests {
    let user = #"{"user":{"id":"user-123","name":"Alice","email":"alice@example.com","age":30},"amount":12345678901234567890123,"price":100.0,"qty":3,"tags":["a","b"]}"#

    @Test func pathExtractsSubtree() throws {
        #expect(try transformed("/user", user) == #"{"id":"user-123","name":"Alice","email":"alice@example.com","age":30}"#)
        #expect(try transformed("/user/name", user) == #""Alice""#)
        #expect(try transformed("/amount", user) == "12345678901234567890123")
        #expect(try transformed("/a", #"{ "a" : [1, 2] }"#) == #"[1,2]"#)
        // Missing: passes through unchanged (as the existing tool does).
        #expect(try transformed("/nope", user) == user)
    }

    @Test func constructKeepsWrittenOrderAndOmitsMissing() throws {
        #expect(try transformed("CONSTRUCT:name=/user/name:id=/user/id:x=/nope:big=/amount", user)
                == #"{"name":"Alice","id":"user-123","big":12345678901234567890123}"#)
        #expect(try transformed("CONSTRUCT:email=/user/email\n", user) == #"{"email":"alice@example.com"}"#)
    }

    @Test func arrayMap() throws {
        let v = #"{"users":[{"id":1,"name":"Alice"},{"id":2,"name":"Bob"},{"id":3,"name":"Charlie"}]}"#
        #expect(try transformed("ARRAY_MAP:/users,/id", v) == "[1,2,3]")
        #expect(try transformed("ARRAY_MAP:/users,/id,ids", v) == #"{"users":[{"id":1,"name":"Alice"},{"id":2,"name":"Bob"},{"id":3,"name":"Charlie"}],"ids":[1,2,3]}"#)
        let o = #"{"orders":[{"id":100,"customer":{"email":"alice@example.com"}},{"id":101,"customer":{"email":"bob@example.com"}}]}"#
        #expect(try transformed("ARRAY_MAP:/orders,/customer/email", o) == #"["alice@example.com","bob@example.com"]"#)
    }

    @Test func arithmetic() throws {
        #expect(try transformed("ARITHMETIC:ADD,/order/subtotal,/order/shipping", #"{"order":{"subtotal":100.50,"shipping":9.99}}"#) == "110.49")
        #expect(try transformed("ARITHMETIC:SUB,/total,/discount", #"{"total":100.0,"discount":20.0}"#) == "80.0")
        #expect(try transformed("ARITHMETIC:MUL,/price,1.2", #"{"price":100.0}"#) == "120.0")
        #expect(try transformed("ARITHMETIC:DIV,/total,/count", #"{"total":500.0,"count":5.0}"#) == "100.0")
        #expect(try transformed("ARITHMETIC:ADD,/a,/b", #"{"a":3,"b":4}"#) == "7")
        #expect(try transformed("ARITHMETIC:DIV,/a,2", #"{"a":10}"#) == "5")
        #expect(try transformed("ARITHMETIC:DIV,/a,4", #"{"a":10}"#) == "2.5")
        #expect(try transformed("ARITHMETIC:DIV,/value,/divisor", #"{"value":100.0,"divisor":0.0}"#) == "error:transform")
        #expect(try transformed("ARITHMETIC:ADD,/price,/tax", #"{"price":100.0}"#) == "error:transform")
    }

    @Test func hashVectors() throws {
        #expect(try transformed("HASH:MD5,/u", #"{"u":"user123"}"#) == #""6ad14ba9986e3615423dfca256d04e3f""#)
        #expect(try transformed("HASH:SHA256,/u", #"{"u":"user123"}"#) == #""e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446""#)
        #expect(try transformed("HASH:MURMUR128,/k", #"{"k":"partition-key"}"#) == #""c989c5aae5a31c2da9c550f9bc135f7b""#)
        #expect(try transformed("HASH:MURMUR64,/k", #"{"k":"partition-key"}"#) == #""a9c550f9bc135f7b""#)
        #expect(try transformed("HASH:sha-256,/u,h", #"{"u":"user123","z":1}"#)
                == #"{"u":"user123","z":1,"h":"e606e38b0d8c19b24cf0ee3808183162ea7cd63ff7912dbb22b5e803286b4446"}"#)
        // Non-strings hash their compact JSON text with sorted keys, as the existing tool does.
        #expect(try transformed("HASH:MD5,/o", #"{"o":{"b":1, "a":2}}"#)
                == "\"" + HashAlgorithm.md5.hex(Array(#"{"a":2,"b":1}"#.utf8)) + "\"")
        #expect(try transformed("HASH:MD5,/n", #"{"n":42}"#) == "\"" + HashAlgorithm.md5.hex(Array("42".utf8)) + "\"")
    }

    @Test func stringOperations() throws {
        let v = #"{"name":"  Alice Smith ","email":"Bob@X.io","s":"a-b-c","n":5}"#
        #expect(try transformed("STRING:UPPER,/email", v) == #"{"name":"  Alice Smith ","email":"BOB@X.IO","s":"a-b-c","n":5}"#)
        #expect(try transformed("STRING:LOWER,/email,e", v) == #"{"name":"  Alice Smith ","email":"Bob@X.io","s":"a-b-c","n":5,"e":"bob@x.io"}"#)
        #expect(try transformed("STRING:TRIM,/name,t", #"{"name":"  A  "}"#) == #"{"name":"  A  ","t":"A"}"#)
        #expect(try transformed("STRING:TRIM_START,/name", #"{"name":"  A  "}"#) == #"{"name":"A  "}"#)
        #expect(try transformed("STRING:TRIM_END,/name", #"{"name":"  A  "}"#) == #"{"name":"  A"}"#)
        #expect(try transformed("STRING:LENGTH,/name,len", #"{"name":"h\u00e9llo"}"#) == #"{"name":"h\u00e9llo","len":5}"#)
        #expect(try transformed("STRING:SUBSTRING,/s,2,3", v) == #"{"name":"  Alice Smith ","email":"Bob@X.io","s":"b-c","n":5}"#)
        #expect(try transformed("STRING:SUBSTRING,/s,2,part", #"{"s":"a-b-c"}"#) == #"{"s":"a-b-c","part":"b-c"}"#)
        #expect(try transformed("STRING:REPLACE,/s,-,+", #"{"s":"a-b-c"}"#) == #"{"s":"a+b-c"}"#)
        #expect(try transformed("STRING:REPLACE_ALL,/s,-,+", #"{"s":"a-b-c"}"#) == #"{"s":"a+b+c"}"#)
        #expect(try transformed("STRING:REGEX_REPLACE,/s,(\\w)-,$1_", #"{"s":"a-b-c"}"#) == #"{"s":"a_b_c"}"#)
        #expect(try transformed("STRING:SPLIT,/s,-", #"{"s":"a-b-c"}"#) == #"{"s":["a","b","c"]}"#)
        #expect(try transformed("STRING:SPLIT,/s,-,parts", #"{"s":"a-b-c"}"#) == #"{"s":"a-b-c","parts":["a","b","c"]}"#)
        #expect(try transformed("STRING:UPPER,/a/b", #"{"a":{"b":"x","c":1},"d":2}"#) == #"{"a":{"b":"X","c":1},"d":2}"#)
        #expect(try transformed("STRING:UPPER,/n", #"{"n":5}"#) == #"{"n":"5"}"#)
        #expect(try transformed("STRING:UPPER,/missing", #"{"n":5}"#) == #"{"n":5}"#)
        #expect(try transformed("STRING:CONCAT,full,/first,' ',/last", #"{"first":"Ada","last":"Lovelace"}"#)
                == #"{"first":"Ada","last":"Lovelace","full":"Ada Lovelace"}"#)
        #expect(try transformed("STRING:CONCAT,id,user-,/n", #"{"n":7}"#) == #"{"n":7,"id":"user-7"}"#)
    }

    @Test func tryFallsBack() throws {
        #expect(try transformed("TRY:/user/email,'unknown@example.com'", #"{"user":{}}"#) == #""unknown@example.com""#)
        #expect(try transformed("TRY:/user/email,'unknown@example.com'", #"{"user":{"email":"a@b"}}"#) == #""a@b""#)
        #expect(try transformed("TRY:/amount,0", "{}") == "0")
        #expect(try transformed("TRY:ARITHMETIC:DIV,/a,/b,null", #"{"a":1,"b":0}"#) == "null")
        #expect(try transformed(#"TRY:/x,{"a":1,"b":[1,2]}"#, "{}") == #"{"a":1,"b":[1,2]}"#)
        #expect(try transformed("TRY:STRING:UPPER,/name,'DEFAULT'", "{}") == #""DEFAULT""#)
        #expect(try transformed("TRY:/x,'a,b'", "{}") == #""a,b""#)
    }

    @Test func cachesAreSharedBetweenDestinations() throws {
        let put = DestinationConfig(output: "a", filter: "/type,==,user", transform: "CACHE_PUT:/id,users,/profile")
        let lookup = DestinationConfig(output: "b", filter: "/type,==,order", transform: "CACHE_LOOKUP:/userId,users,profile")
        let merge = DestinationConfig(output: "c", filter: "/type,==,order", transform: "CACHE_LOOKUP:/userId,users,MERGE")
        let pipeline = try Pipeline(routing: RoutingConfig(destinations: [put, lookup, merge]))
        func run(_ v: String) throws -> [DestinationResult] {
            var r = try DryRunRecord(line: v)
            r.topic = "t"
            return r.withInputRecord { pipeline.process($0) }
        }
        let first = try run(#"{"type":"order","userId":"u1","total":5}"#)
        #expect(first[1] == .produce(OutputRecord(topic: "b", key: .unchanged, value: .unchanged, headers: .unchanged, timestamp: nil, partition: .keyHash)))
        _ = try run(#"{"type":"user","id":"u1","profile":{"tier":"gold","total":0}}"#)
        let second = try run(#"{"type":"order","userId":"u1","total":5}"#)
        #expect(second[1] == .produce(OutputRecord(topic: "b", key: .unchanged, value: .bytes(Array(#"{"type":"order","userId":"u1","total":5,"profile":{"tier":"gold","total":0}}"#.utf8)), headers: .unchanged, timestamp: nil, partition: .keyHash)))
        #expect(second[2] == .produce(OutputRecord(topic: "c", key: .unchanged, value: .bytes(Array(#"{"type":"order","userId":"u1","total":0,"tier":"gold"}"#.utf8)), headers: .unchanged, timestamp: nil, partition: .keyHash)))
    }

    @Test(arguments: [
        ("CONSTRUCT:a/b", 11, "expected name=/path"),
        ("HASH:SHA1,/a", 6, "unknown hash algorithm"),
        ("STRING:UPPR,/a", 8, "unknown STRING operation"),
        ("ARITHMETIC:POW,/a,2", 12, "unknown arithmetic operation"),
        ("TRY:/a", 5, "TRY needs a fallback"),
        ("TRY:/a,{bad", 9, "invalid fallback"),
        ("STRING:SUBSTRING,/a,x", 21, "invalid start index"),
        ("STRING:CONCAT,out,/a,,b", 22, "part 2 of CONCAT is empty"),
        ("STRING:REPLACE,/a,,x", 19, "must not be empty"),
        ("CONSTRUKT:a=/b", 1, "unknown transform"),
    ])
    func rejectsMalformedTransformAtColumn(_ source: String, _ column: Int, _ message: String) throws {
        let e = try #require(compileError(transform: source))
        #expect(e.column == column, "\(source): \(e)")
        #expect(e.message.contains(message), "\(source): \(e)")
    }
}
