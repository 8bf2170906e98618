// libFuzzer target: what the supervisor and the workers read from their peers. The input is a
// byte stream (the first byte sets the chunk size it arrives in) cut into lines by LineFramer,
// and every line is decoded as each message type of the control and worker protocols.
//
// Checked: the framer gives the same frames and errors however the stream is chunked, never a
// line over the limit or holding a newline; decoding ends in a value or an error, never a crash;
// a decoded message encodes and decodes back to itself (both ends use one codec).
//
// Written here because the properties are StreamForge's own; libFuzzer only supplies inputs.
// `make fuzz` runs it (scripts/fuzz.sh).

@testable import StreamForgeCore
@testable import StreamForgeIPC
@testable import StreamForgeLanguage

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

enum Frame: Equatable {
    case line([UInt8])
    case tooLarge
    case malformed
}

/// The frames of `stream` fed in chunks of `chunk` bytes.
func frames(_ stream: ArraySlice<UInt8>, chunk: Int, limit: Int) -> [Frame] {
    var framer = LineFramer(maxFrameSize: limit)
    var out: [Frame] = []
    var at = stream.startIndex
    while true {
        let end = min(at + chunk, stream.endIndex)
        framer.append(stream[at..<end])
        at = end
        while true {
            do {
                guard let line = try framer.next() else { break }
                if line.count > limit || line.contains(0x0A) { fatalError("frame of \(line.count) bytes over \(limit) or with a newline") }
                out.append(.line(line))
            } catch .frameTooLarge {
                out.append(.tooLarge)
            } catch {
                out.append(.malformed)
            }
        }
        if at == stream.endIndex { return out }
    }
}

/// Decodes `line` as `T`; when it decodes, its encoding must decode to the same value.
func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ line: [UInt8]) {
    guard let value = try? LineCodec.decode(T.self, from: line) else { return }
    var encoded = LineCodec.encode(value)
    if encoded.last == 0x0A { encoded.removeLast() } else { fatalError("encoded line without its newline") }
    if encoded.contains(0x0A) { fatalError("encoded \(T.self) holds a newline: it would split into two frames") }
    guard let again = try? LineCodec.decode(T.self, from: encoded) else {
        fatalError("\(T.self) does not decode its own encoding: \(String(decoding: encoded, as: UTF8.self))")
    }
    if again != value {
        fatalError("\(T.self) changes in a round trip: \(value) -> \(again)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let chunk = Int(bytes[0] % 32) + 1
    let stream = bytes[1...]
    // A small limit, so that oversized lines and their skipping are reached.
    let limit = 256
    let whole = frames(stream, chunk: stream.count + 1, limit: limit)
    let chunked = frames(stream, chunk: chunk, limit: limit)
    if whole != chunked { fatalError("frames depend on chunking (\(chunk) bytes): \(whole) vs \(chunked)") }

    for case .line(let line) in whole {
        switch ControlCommand.parse(line) {
        case .success(let command):
            if case .success(let again) = ControlCommand.parse(Array(LineCodec.encode(command).dropLast())), again == command {
                break
            }
            fatalError("control command \(command) does not survive a round trip")
        case .failure(let error):
            if error.message.isEmpty { fatalError("an empty error reply") }
        }
        roundTrip(WorkerMessage.self, line)
        roundTrip(WorkerCommandFrame.self, line)
        roundTrip(ControlReply.self, line)
    }
    return 0
}
