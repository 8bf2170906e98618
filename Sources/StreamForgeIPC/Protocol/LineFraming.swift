// Newline-delimited JSON framing for the worker link and the control socket.
//
// A frame is one JSON value on one line, terminated by "\n" (JSON strings escape their own
// newlines, so a frame never contains one). The decoder enforces a maximum frame size: a peer
// that sends an endless line costs bounded memory, and the line is skipped up to its newline so
// that the next frame is read normally.

import StreamForgeCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line longer than the maximum; its bytes are discarded up to the next newline.
    case frameTooLarge(limit: Int)
    /// A line that is not the JSON expected; `reason` is safe to show to the peer.
    case malformed(reason: String)

    public var description: String {
        switch self {
        case .frameTooLarge(let limit): return "frame larger than \(limit) bytes"
        case .malformed(let reason): return "malformed message: \(reason)"
        }
    }
}

/// Splits a byte stream into lines, bounded by `maxFrameSize` (newline excluded).
public struct LineFramer: Sendable {
    /// 1 MiB: a snapshot of a worker assigned thousands of partitions fits comfortably.
    public static let defaultWorkerLinkLimit = 1 << 20
    /// 64 KiB: control requests are tiny.
    public static let defaultControlLimit = 64 << 10

    public let maxFrameSize: Int
    private var buffer: [UInt8] = []
    /// Start of the unread part of `buffer`.
    private var start = 0
    /// Where to resume the newline search.
    private var scanned = 0
    /// True while skipping the rest of an oversized line.
    private var discarding = false

    public init(maxFrameSize: Int) {
        precondition(maxFrameSize > 0)
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line (without its newline), nil when more bytes are needed.
    /// Throws `frameTooLarge` once per oversized line; call again to go on with the next one.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                compact()
                if discarding {
                    discarding = false
                    continue
                }
                if line.count > maxFrameSize {
                    throw .frameTooLarge(limit: maxFrameSize)
                }
                return line
            }
            scanned = buffer.count
            if discarding {
                // Drop what we have of the oversized line; keep looking for its end.
                start = buffer.count
                scanned = start
                compact()
                return nil
            }
            if buffer.count - start > maxFrameSize {
                discarding = true
                start = buffer.count
                scanned = start
                compact()
                throw .frameTooLarge(limit: maxFrameSize)
            }
            return nil
        }
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
            scanned = 0
        } else if start > 1 << 16 && start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
    }
}

/// JSON line encoding and decoding shared by both ends of both protocols.
public enum LineCodec {
    /// One JSON line, newline included.
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            var bytes = Array(try encoder.encode(value))
            bytes.append(UInt8(ascii: "\n"))
            return bytes
        } catch {
            // Only non-finite floating point values can fail here, and the protocol has none.
            preconditionFailure("unable to encode protocol message: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from line: [UInt8]) throws(FrameError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(line))
        } catch let error as DecodingError {
            throw .malformed(reason: describe(error))
        } catch {
            throw .malformed(reason: "not valid JSON")
        }
    }

    /// A short, peer-safe description of a decoding error (no payload echoed back).
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type\(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "invalid value\(path(context))"
        @unknown default:
            return "not valid JSON"
        }
    }
}
