import Foundation
import Glibc
import StreamForgeCore
@testable import StreamForgeIPC
import Testing
@testable import StreamForgeSupervisor

@Suite struct ExpositionTests {
    func lines(_ text: String, _ prefix: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    @Test func countersOfEveryWorkerAndLagOfTheCurrentOwnerOnly() {
        var h = Harness()
        h.send(.start(workers: 2))
        let a = TopicPartition(topic: "orders", partition: 0), b = TopicPartition(topic: "orders", partition: 1)
        h.send(.ready(pid: h.pid(0)!, assigned: [a]))
        h.send(.ready(pid: h.pid(1)!, assigned: [b]))
        var latency = LatencyHistogram()
        latency.observe(milliseconds: 3)
        latency.observe(milliseconds: 40)
        latency.observe(milliseconds: 400_000)
        var counters = WorkerCounters(consumed: 100, produced: ["orders-copy": 90, "audit": 5], filtered: 5, transformed: 7,
                                      dlq: 2, committed: 4, latency: latency)
        counters.filteredBy = ["audit": 5]
        counters.error("malformed_json")
        counters.error("malformed_json")
        h.send(.snapshot(pid: h.pid(0)!, WorkerSnapshot(state: .running, counters: counters, assigned: [a],
                                                         lag: [PartitionLag(topic: "orders", partition: 0, lag: 12, committed: 88)],
                                                         inFlight: 3, oldestInFlightMs: 1500)))
        h.send(.snapshot(pid: h.pid(1)!, WorkerSnapshot(state: .running, counters: WorkerCounters(consumed: 10, produced: ["orders-copy": 10]),
                                                         assigned: [b], lag: [PartitionLag(topic: "orders", partition: 1, lag: 0, committed: 10)])))
        // Worker 0 exits: its counters stay in the totals, its partition's lag is gone until the next owner reports.
        h.send(.exited(pid: h.pid(0)!, status: .signaled(9)))
        let text = h.machine.prometheusExposition(version: "1.2.3", appid: "app")
        #expect(text.contains("streamforge_build_info{appid=\"app\",version=\"1.2.3\"} 1\n"))
        #expect(text.contains("streamforge_records_consumed_total 110\n"))
        #expect(text.contains("streamforge_records_produced_total{destination=\"orders-copy\"} 100\n"))
        #expect(text.contains("streamforge_records_produced_total{destination=\"audit\"} 5\n"))
        #expect(text.contains("streamforge_errors_total{kind=\"malformed_json\"} 2\n"))
        #expect(text.contains("streamforge_records_filtered_total{destination=\"audit\"} 5\n"))
        #expect(text.contains("streamforge_records_dead_lettered_total 2\n"))
        #expect(text.contains("streamforge_worker_restarts_total{slot=\"0\"} 1\n"))
        #expect(text.contains("streamforge_workers_target 2\n"))
        #expect(text.contains("streamforge_workers_up 1\n"))
        #expect(lines(text, "kafka_consumer_lag{") == ["kafka_consumer_lag{group=\"app\",partition=\"1\",topic=\"orders\"} 0"])
        #expect(lines(text, "streamforge_committed_offset{") == ["streamforge_committed_offset{group=\"app\",partition=\"1\",topic=\"orders\"} 10"])
        // Cumulative buckets: 3 ms ≤ 5 ms, 40 ms ≤ 50 ms, 400 s only in +Inf.
        #expect(text.contains("streamforge_delivery_latency_seconds_bucket{le=\"0.005\"} 1\n"))
        #expect(text.contains("streamforge_delivery_latency_seconds_bucket{le=\"0.05\"} 2\n"))
        #expect(text.contains("streamforge_delivery_latency_seconds_bucket{le=\"300\"} 2\n"))
        #expect(text.contains("streamforge_delivery_latency_seconds_bucket{le=\"+Inf\"} 3\n"))
        #expect(text.contains("streamforge_delivery_latency_seconds_count 3\n"))
        #expect(text.contains("streamforge_delivery_latency_seconds_sum 400.043\n"))
        // Every sample line belongs to a family declared once with HELP and TYPE.
        var declared = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let name = String(line.split(separator: " ")[2])
                #expect(declared.insert(name).inserted, "\(name) declared twice")
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && declared.contains(String($0.dropLast($1.count))) ? String($0.dropLast($1.count)) : $0 }
                #expect(declared.contains(family), "\(name) has no TYPE line before it")
            }
        }
    }

    @Test func labelValuesAreEscaped() {
        var m = MetricsText()
        m.sample("x", ["topic": "a\"b\\c\nd"], 1.5)
        #expect(m.text == "x{topic=\"a\\\"b\\\\c\\nd\"} 1.5\n")
        var crlf = MetricsText()
        crlf.sample("y", ["t": "a\r\nb"], 1)
        #expect(crlf.text == "y{t=\"a\r\\nb\"} 1\n", "the line feed of a CR-LF is escaped too")
    }

    @Test func readinessSaysWhyNot() {
        var h = Harness()
        h.send(.start(workers: 2))
        #expect(h.machine.notReadyReasons() == ["worker 0: starting", "worker 1: starting"])
        h.readyAll()
        #expect(h.machine.notReadyReasons().isEmpty)
        h.send(.exited(pid: h.pid(1)!, status: .exited(75)))
        #expect(h.machine.notReadyReasons() == ["worker 1: restarting"])
        h.advance(.seconds(1))
        #expect(h.machine.notReadyReasons() == ["worker 1: starting"])
    }
}

@Suite(.serialized) struct HTTPEndpointTests {
    /// A blocking HTTP exchange with the endpoint, serving it meanwhile.
    func get(_ endpoint: HTTPEndpoint, _ request: String, respond: @escaping (String, String) -> HTTPResponse) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(endpoint.port!).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(rc == 0)
        defer { close(fd) }
        _ = Posix.sendSome(fd, Array(request.utf8)[...])
        Posix.setNonBlocking(fd)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<300 {
            var poller = Poller()
            endpoint.register(in: &poller)
            poller.wait(timeout: .milliseconds(5))
            endpoint.service(poller, now: Posix.monotonicNow(), respond: respond)
            switch Posix.read(fd, into: &buffer) {
            case .data(let n): received += buffer[0..<n]
            case .closed: return String(decoding: received, as: UTF8.self)
            case .wouldBlock: break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test func servesGetAndHeadAndRefusesTheRest() throws {
        let endpoint = try HTTPEndpoint(listen: "127.0.0.1:0")
        defer { endpoint.shutdown() }
        #expect(endpoint.boundAddress.hasPrefix("127.0.0.1:") && !endpoint.boundAddress.hasSuffix(":0"))
        let respond: (String, String) -> HTTPResponse = { _, path in
            path == "/metrics" ? .text("up 1\n") : .text("not found\n", status: 404)
        }
        let ok = try get(endpoint, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", respond: respond)
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(ok.contains("Content-Length: 5\r\n"))
        #expect(ok.hasSuffix("\r\n\r\nup 1\n"))
        let head = try get(endpoint, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", respond: respond)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("\r\n\r\n"))
        #expect(try get(endpoint, "GET /nope HTTP/1.1\r\n\r\n", respond: respond).hasPrefix("HTTP/1.1 404 "))
        #expect(try get(endpoint, "POST /metrics HTTP/1.1\r\n\r\n", respond: respond).hasPrefix("HTTP/1.1 405 "))
        #expect(try get(endpoint, "garbage\r\n\r\n", respond: respond).hasPrefix("HTTP/1.1 400 "))
        let huge = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 10_000) + "\r\n\r\n"
        #expect(try get(endpoint, huge, respond: respond).hasPrefix("HTTP/1.1 431 "))
    }

    @Test func aBusyPortIsAnError() throws {
        let first = try HTTPEndpoint(listen: "127.0.0.1:0")
        defer { first.shutdown() }
        #expect(throws: SysError.self) { try HTTPEndpoint(listen: "127.0.0.1:\(first.port!)") }
    }
}
