import StreamForgeCore
import StreamForgeIPC
import Testing

@Suite struct LineFramingTests {
    @Test func splitsLinesAcrossReads() throws {
        var framer = LineFramer(maxFrameSize: 100)
        framer.append(Array("{\"a\":1}\n{\"b\"".utf8))
        #expect(try framer.next() == Array("{\"a\":1}".utf8))
        #expect(try framer.next() == nil)
        framer.append(Array(":2}\n".utf8))
        #expect(try framer.next() == Array("{\"b\":2}".utf8))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func rejectsOversizedFrameAndResynchronizes() throws {
        var framer = LineFramer(maxFrameSize: 8)
        framer.append(Array("0123456789".utf8))
        #expect(throws: FrameError.frameTooLarge(limit: 8)) { try framer.next() }
        // The rest of the long line is skipped; memory stays bounded.
        framer.append(Array("abcdefghijkl".utf8))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
        framer.append(Array("xyz\nok\n".utf8))
        #expect(try framer.next() == Array("ok".utf8))
    }

    @Test func rejectsOversizedCompleteLine() throws {
        var framer = LineFramer(maxFrameSize: 4)
        framer.append(Array("toolong\nfine\n".utf8))
        #expect(throws: FrameError.frameTooLarge(limit: 4)) { try framer.next() }
        #expect(try framer.next() == Array("fine".utf8))
    }

    @Test func frameOfExactlyTheLimitPasses() throws {
        var framer = LineFramer(maxFrameSize: 4)
        framer.append(Array("abcd".utf8))
        #expect(try framer.next() == nil)
        framer.append([UInt8(ascii: "\n")])
        #expect(try framer.next() == Array("abcd".utf8))
    }
}

@Suite struct WorkerProtocolTests {
    @Test func workerMessagesRoundTrip() throws {
        let snapshot = WorkerSnapshot(
            state: .running,
            counters: WorkerCounters(consumed: 10, produced: ["out-a": 7, "out-b": 3], filtered: 1, transformed: 2,
                                     errors: 1, dlq: 1, committed: 9),
            assigned: [TopicPartition(topic: "orders", partition: 2)],
            lag: [PartitionLag(topic: "orders", partition: 2, lag: 42)],
            failed: [FailedPartition(topic: "orders", partition: 2, offset: 17, destination: "out-a", reason: "bad JSON")])
        let messages: [WorkerMessage] = [
            .hello(slot: 3, pid: 812),
            .ready(assigned: []),
            .ready(assigned: [TopicPartition(topic: "t", partition: 0)]),
            .snapshot(snapshot),
            .error(message: "line one\nline two"),
        ]
        for message in messages {
            let line = LineCodec.encode(message)
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false, "one frame is one line")
            #expect(try LineCodec.decode(WorkerMessage.self, from: Array(line.dropLast())) == message)
        }
    }

    @Test func wireFormatIsStable() throws {
        #expect(String(decoding: LineCodec.encode(WorkerMessage.hello(slot: 1, pid: 99)), as: UTF8.self)
                == "{\"pid\":99,\"slot\":1,\"type\":\"hello\"}\n")
        #expect(String(decoding: LineCodec.encode(WorkerCommandFrame(.drain)), as: UTF8.self) == "{\"type\":\"drain\"}\n")
        let minimal = try LineCodec.decode(WorkerMessage.self, from: Array("{\"type\":\"snapshot\",\"snapshot\":{\"state\":\"paused\"}}".utf8))
        #expect(minimal == .snapshot(WorkerSnapshot(state: .paused)))
    }

    @Test func malformedLinesAreErrorsNotCrashes() {
        let lines = ["", "garbage", "{}", "{\"type\":\"nope\"}", "{\"type\":\"hello\",\"slot\":\"x\",\"pid\":1}", "[1,2]", "\u{0}\u{1}"]
        for line in lines {
            #expect(throws: FrameError.self) { try LineCodec.decode(WorkerMessage.self, from: Array(line.utf8)) }
        }
    }
}

@Suite struct ControlProtocolTests {
    @Test func parsesEveryCommand() {
        let cases: [(String, ControlCommand)] = [
            ("{\"cmd\":\"status\"}", .status), ("{\"cmd\":\"scale\",\"workers\":4}", .scale(workers: 4)),
            ("{\"cmd\":\"reload\"}", .reload), ("{\"cmd\":\"drain\"}", .drain), ("{\"cmd\":\"stop\"}", .stop),
            ("{\"cmd\":\"pause\"}", .pause), ("{\"cmd\":\"resume\"}", .resume),
        ]
        for (text, command) in cases {
            #expect(ControlCommand.parse(Array(text.utf8)) == .success(command))
            #expect(ControlCommand.parse(Array(LineCodec.encode(command).dropLast())) == .success(command))
        }
    }

    @Test func explainsBadRequests() {
        func error(_ text: String) -> String? {
            if case .failure(let e) = ControlCommand.parse(Array(text.utf8)) { return e.message }
            return nil
        }
        #expect(error("hello")?.hasPrefix("malformed request") == true)
        #expect(error("")?.hasPrefix("empty request") == true)
        #expect(error("{\"cmd\":\"explode\"}")?.hasPrefix("unknown command 'explode'") == true)
        #expect(error("{\"cmd\":\"scale\"}")?.hasPrefix("scale needs") == true)
        #expect(error("{\"cmd\":\"scale\",\"workers\":-1}")?.hasPrefix("scale needs") == true)
        #expect(error("{\"cmd\":\"scale\",\"workers\":\"many\"}")?.hasPrefix("scale needs") == true)
        #expect(error("{\"nocmd\":1}")?.contains("missing key 'cmd'") == true)
    }

    @Test func repliesRoundTrip() throws {
        let report = StatusReport(state: .running, pid: 1, version: "1", uptimeSeconds: 3, configPath: "/c", appid: "a",
                                  workersTarget: 1, workersUp: 1,
                                  workers: [WorkerStatus(slot: 0, pid: 5, state: .running, restarts: 2)],
                                  totals: StatusTotals())
        for reply in [ControlReply.success(.status(report)), .success(message: "ok then"), .failure("no")] {
            let line = LineCodec.encode(reply)
            #expect(try LineCodec.decode(ControlReply.self, from: Array(line.dropLast())) == reply)
        }
        #expect(String(decoding: LineCodec.encode(ControlReply.failure("no")), as: UTF8.self) == "{\"error\":\"no\",\"ok\":false}\n")
    }
}
