// The control protocol spoken on the supervisor's Unix stream socket (DESIGN.md §6): one JSON
// object per line each way.
//
//   {"cmd":"status"}                    → {"ok":true,"result":{...StatusReport...}}
//   {"cmd":"scale","workers":4}         → {"ok":true,"result":{"message":"scaling from 2 to 4 workers"}}
//   {"cmd":"reload"}                    → {"ok":false,"error":"config.yaml:3:5: error: ..."}
//   {"cmd":"drain"} {"cmd":"stop"} {"cmd":"pause"} {"cmd":"resume"}
//   {"cmd":"autoscale","enabled":true}  → autoscaling on again after a manual `scale`
//
// Every reply has `ok` and either `result` or `error` (a message for people). Malformed input
// gets an error reply; the connection stays usable unless the line was oversized.

import StreamForgeCore

/// A request, as parsed from one line.
public enum ControlCommand: Hashable, Sendable {
    case status
    case scale(workers: Int)
    case reload
    /// Drain every worker and stop the daemon (same as SIGTERM).
    case drain
    /// Alias of `drain`.
    case stop
    case pause
    case resume
    /// Autoscaling on (again, after a manual `scale`) or off.
    case autoscale(enabled: Bool)

    public var name: String {
        switch self {
        case .status: return "status"
        case .scale: return "scale"
        case .reload: return "reload"
        case .drain: return "drain"
        case .stop: return "stop"
        case .pause: return "pause"
        case .resume: return "resume"
        case .autoscale: return "autoscale"
        }
    }

    /// Commands that change the daemon's state need a privileged peer (SO_PEERCRED).
    public var changesState: Bool { self != .status }

    /// The most workers `scale` accepts (a guard against typos such as `scale 4000`).
    public static let maxWorkers = 1024
}

extension ControlCommand: Codable {
    private enum CodingKeys: String, CodingKey { case cmd, workers, enabled }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let cmd = try c.decode(String.self, forKey: .cmd)
        switch cmd {
        case "status": self = .status
        case "reload": self = .reload
        case "drain": self = .drain
        case "stop": self = .stop
        case "pause": self = .pause
        case "resume": self = .resume
        case "autoscale": self = .autoscale(enabled: try c.decode(Bool.self, forKey: .enabled))
        case "scale":
            let n = try c.decode(Int.self, forKey: .workers)
            guard (0...Self.maxWorkers).contains(n) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .workers, in: c, debugDescription: "workers must be between 0 and \(Self.maxWorkers)")
            }
            self = .scale(workers: n)
        default:
            throw DecodingError.dataCorruptedError(forKey: .cmd, in: c, debugDescription: "unknown command '\(cmd)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .cmd)
        if case .scale(let n) = self { try c.encode(n, forKey: .workers) }
        if case .autoscale(let enabled) = self { try c.encode(enabled, forKey: .enabled) }
    }

    /// Parses one request line; the error text is meant for the reply.
    public static func parse(_ line: [UInt8]) -> Result<ControlCommand, ControlRequestError> {
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else {
            return .failure(ControlRequestError("empty request; expected a JSON object such as {\"cmd\":\"status\"}"))
        }
        do {
            return .success(try LineCodec.decode(ControlCommand.self, from: line))
        } catch {
            return .failure(ControlRequestError(Self.explain(line: line, error: error)))
        }
    }

    private static func explain(line: [UInt8], error: FrameError) -> String {
        // Recover the messages thrown above ("unknown command", range) when the decoder kept them.
        if let command = try? LineCodec.decode(RawCommand.self, from: line) {
            let known = ["status", "scale", "reload", "drain", "stop", "pause", "resume", "autoscale"]
            if !known.contains(command.cmd) {
                return "unknown command '\(command.cmd)'; expected one of: \(known.joined(separator: ", "))"
            }
            if command.cmd == "scale" {
                return "scale needs \"workers\": an integer between 0 and \(maxWorkers)"
            }
            if command.cmd == "autoscale" {
                return "autoscale needs \"enabled\": true or false"
            }
        }
        if case .malformed(let reason) = error {
            return "malformed request (\(reason)); expected a JSON object such as {\"cmd\":\"status\"}"
        }
        return error.description
    }

    private struct RawCommand: Decodable { var cmd: String }
}

public struct ControlRequestError: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// What a successful command returns.
public enum ControlResult: Hashable, Sendable {
    case status(StatusReport)
    case message(String)
}

/// One reply line.
public struct ControlReply: Hashable, Sendable, Codable {
    public var ok: Bool
    public var result: ControlResult?
    public var error: String?

    public static func success(_ result: ControlResult) -> ControlReply { ControlReply(ok: true, result: result, error: nil) }
    public static func success(message: String) -> ControlReply { .success(.message(message)) }
    public static func failure(_ message: String) -> ControlReply { ControlReply(ok: false, result: nil, error: message) }

    public init(ok: Bool, result: ControlResult?, error: String?) {
        self.ok = ok
        self.result = result
        self.error = error
    }

    private enum CodingKeys: String, CodingKey { case ok, result, error }
    private enum MessageKeys: String, CodingKey { case message }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ok = try c.decode(Bool.self, forKey: .ok)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        if c.contains(.result), try !c.decodeNil(forKey: .result) {
            let message = try c.nestedContainer(keyedBy: MessageKeys.self, forKey: .result)
            if let text = try message.decodeIfPresent(String.self, forKey: .message) {
                result = .message(text)
            } else {
                result = .status(try c.decode(StatusReport.self, forKey: .result))
            }
        } else {
            result = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok, forKey: .ok)
        switch result {
        case .status(let report): try c.encode(report, forKey: .result)
        case .message(let text):
            var m = c.nestedContainer(keyedBy: MessageKeys.self, forKey: .result)
            try m.encode(text, forKey: .message)
        case nil: break
        }
        try c.encodeIfPresent(error, forKey: .error)
    }
}
