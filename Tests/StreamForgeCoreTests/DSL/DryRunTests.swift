import Testing
@testable import StreamForgeCore

@Suite struct DryRunTests {
    @Test func printsEachDestinationDeterministically() throws {
        let routing = RoutingConfig(destinations: [
            DestinationConfig(output: "premium", filter: "/amount,>,100", transform: "CONSTRUCT:id=/id:amount=/amount",
                              keyTransform: "/id", headers: [(name: "x-src", value: "sf")]),
            DestinationConfig(output: "calc", transform: "ARITHMETIC:DIV,/amount,/n", errorPolicy: .skipAndLog),
        ])
        let pipeline = try Pipeline(routing: routing)
        let out = DryRun.run(pipeline: pipeline, routing: routing, input: [
            #"{"value":{"id":"o1","amount":150,"n":0},"key":"k1","headers":[["h","1"]],"timestamp":5}"#,
            "",
            #"{"id":"o2","amount":5,"n":5}"#,
            "not json",
        ])
        #expect(out == """
        record 1 (topic=input partition=0 offset=0)
          [0] premium: produce to premium
              key: "o1"
              value: {"id":"o1","amount":150}
              headers: [["h","1"],["x-src","sf"]]
              timestamp: 5 (source)
              partition: murmur2 of the key
          [1] calc: error transform: ARITHMETIC: division by zero (policy: skip_and_log)
        record 2 (topic=input partition=0 offset=0)
          [0] premium: filtered
          [1] calc: produce to calc
              key: null
              value: 1
              headers: []
              timestamp: 0 (source)
              partition: murmur2 of the key
        record 3 (line 4): unable to read record: not JSON (byte 0: invalid literal); write the record's value as JSON, or {"value_raw": "..."}

        """)
    }
}
