// `make bench-dsl`: per-record cost of the language on a realistic ~1 KB JSON record, including
// the lazy scan of the record (nothing is pre-parsed). Median of several runs, ns per record.

import StreamForgeLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let record = #"""
{"eventType":"order.created","status":"confirmed","eventId":"6f1c2a9e-3b7d-4c21-9a55-0f7e2d9c1b44","timestamp":1700000000123,"tenant":"acme-eu","user":{"id":"user-48213","email":"jane.doe@example.com","name":"Jane Doe","tier":"gold","age":34,"address":{"street":"12 Rue de Rivoli","city":"Paris","zip":"75001","country":"FR"}},"order":{"id":"ord-99812734","total":1249.95,"currency":"EUR","subtotal":1189.95,"shipping":60.0,"items":[{"sku":"SKU-1001","name":"Espresso machine","qty":1,"price":899.0},{"sku":"SKU-2044","name":"Milk jug","qty":2,"price":24.95},{"sku":"SKU-3310","name":"Coffee beans 1kg","qty":3,"price":80.35}],"coupon":null,"gift":false},"payment":{"method":"card","brand":"visa","last4":"4242","authorized":true},"device":{"type":"mobile","os":"iOS","version":"17.2.1","ip":"203.0.113.42"},"tags":["promo","newsletter","returning","vip"],"metrics":{"latencyMs":182,"retries":0,"score":0.9731},"notes":"Leave the parcel with the concierge, ring twice. Fragile: glass carafe inside."}
"""#

let cases: [(String, [DestinationConfig])] = [
    ("simple compare", [DestinationConfig(output: "o", filter: "/status,==,confirmed")]),
    ("AND of three", [DestinationConfig(output: "o", filter: "AND:/status,==,confirmed:/order/total,>,1000:/user/tier,==,gold")]),
    ("REGEX", [DestinationConfig(output: "o", filter: #"REGEX:/user/email,^[a-z.]+@example\.com$"#)]),
    ("ARRAY_ANY", [DestinationConfig(output: "o", filter: "ARRAY_ANY:/order/items,/qty,>=,3")]),
    ("CONSTRUCT of five", [DestinationConfig(output: "o", transform: "CONSTRUCT:id=/order/id:user=/user/id:total=/order/total:city=/user/address/city:tier=/user/tier")]),
    ("HASH SHA256", [DestinationConfig(output: "o", transform: "HASH:SHA256,/user/email")]),
    ("STRING UPPER", [DestinationConfig(output: "o", transform: "STRING:UPPER,/user/name,nameUpper")]),
    // `make bench`'s language path: a filter, a CONSTRUCT and a hashed key on one destination.
    ("language path", [DestinationConfig(output: "o", filter: "/status,==,confirmed",
                                         transform: "CONSTRUCT:id=/order/id:user=/user/id:total=/order/total:city=/user/address/city:tier=/user/tier",
                                         keyTransform: "HASH:SHA256,/user/email")]),
    ("fan-out of three", [
        DestinationConfig(output: "a", filter: "/eventType,==,order.created"),
        DestinationConfig(output: "b", filter: "/order/total,>,1000", transform: "CONSTRUCT:id=/order/id:total=/order/total"),
        DestinationConfig(output: "c", filter: "/user/tier,==,silver"),
    ]),
    ("pure mirror", [DestinationConfig(output: "o")]),
]

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

// Arguments: [records per run] [case name prefix] [default|checked|both]
let args = CommandLine.arguments
let iterations = args.count > 1 ? Int(args[1]) ?? 200_000 : 200_000
let only = args.count > 2 && args[2] != "all" ? args[2] : nil
let modes: [Bool] = args.count > 3 ? (args[3] == "checked" ? [true] : args[3] == "default" ? [false] : [false, true]) : [false, true]
let runs = 7
let bytes = Array(record.utf8)
print("record: \(bytes.count) bytes; \(iterations) records per run; median of \(runs) runs")
for check in modes {
    print(check ? "\n-- checkForwardedJSON: forwarded values fully checked" : "\n-- default: only the parts read are checked")
    for (name, destinations) in cases where only.map({ name.hasPrefix($0) }) ?? true {
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(routing: RoutingConfig(destinations: destinations), options: .init(checkForwardedJSON: check))
        } catch {
            print("\(name): \(error)")
            continue
        }
        var results: [DestinationResult] = []
        results.reserveCapacity(4)
        var samples: [Double] = []
        var produced = 0
        bytes.withUnsafeBytes { raw in
            let input = InputRecord(topic: "orders", partition: 0, offset: 0, key: nil, value: raw, headers: [], timestamp: 1_700_000_000_000)
            for _ in 0..<runs {
                let t0 = nowNs()
                for _ in 0..<iterations {
                    pipeline.process(input, into: &results)
                    if case .produce = results[0] { produced &+= 1 }
                }
                samples.append(Double(nowNs() - t0) / Double(iterations))
            }
        }
        samples.sort()
        let pad = String(repeating: " ", count: max(0, 20 - name.count))
        print("\(name)\(pad) \(String(Int(samples[runs / 2].rounded()))) ns/record  (min \(Int(samples[0].rounded())), produced \(produced > 0 ? "yes" : "no"))")
    }
}
