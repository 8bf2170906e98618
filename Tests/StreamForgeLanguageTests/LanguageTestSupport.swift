// Helpers for the language tests: run a record given as text through a pipeline.

@testable import StreamForgeLanguage

/// Runs one record through a pipeline made of `destinations`.
func runRecord(_ destinations: [DestinationConfig], routingType: RoutingType = .filter, path: String? = nil,
               value: String?, key: String? = nil, headers: [(String, String?)] = [],
               timestamp: Int64 = 1_700_000_000_000, topic: String = "events") throws -> [DestinationResult] {
    let pipeline = try Pipeline(routing: RoutingConfig(routingType: routingType, path: path, destinations: destinations))
    let keyBytes = key.map { Array($0.utf8) } ?? []
    let valueBytes = value.map { Array($0.utf8) } ?? []
    let headerBytes = headers.map { ($0.0, $0.1.map { Array($0.utf8) }) }
    // Each header value is copied into memory that lives for the call.
    let buffers = headerBytes.map { h in h.1.map { bytes -> UnsafeMutableRawBufferPointer in
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        b.copyBytes(from: bytes)
        return UnsafeMutableRawBufferPointer(rebasing: b[0..<bytes.count])
    } }
    defer { buffers.forEach { $0?.deallocate() } }
    let hs: [(name: String, value: UnsafeRawBufferPointer?)] = zip(headerBytes, buffers).map { ($0.0, $1.map { UnsafeRawBufferPointer($0) }) }
    return keyBytes.withUnsafeBytes { kb in
        valueBytes.withUnsafeBytes { vb in
            pipeline.process(InputRecord(topic: topic, partition: 0, offset: 0, key: key == nil ? nil : kb,
                                         value: value == nil ? nil : vb, headers: hs, timestamp: timestamp))
        }
    }
}

/// Runs one destination; returns its result.
func run1(filter: String? = nil, transform: String? = nil, keyTransform: String? = nil,
          headers: [(name: String, value: String)] = [], headerTransforms: [HeaderTransformSpec] = [],
          timestamp: String? = nil, partition: PartitionSpec = .keyHash,
          value: String?, key: String? = nil, recordHeaders: [(String, String?)] = [],
          recordTimestamp: Int64 = 1_700_000_000_000) throws -> DestinationResult {
    let d = DestinationConfig(output: "out", filter: filter, transform: transform, keyTransform: keyTransform,
                              headers: headers, headerTransforms: headerTransforms, timestamp: timestamp, partition: partition)
    return try runRecord([d], value: value, key: key, headers: recordHeaders, timestamp: recordTimestamp)[0]
}

/// True when the filter passes `value`.
func passes(_ filter: String, _ value: String, key: String? = nil, headers: [(String, String?)] = [],
            timestamp: Int64 = 1_700_000_000_000) throws -> Bool {
    switch try run1(filter: filter, value: value, key: key, recordHeaders: headers, recordTimestamp: timestamp) {
    case .produce: return true
    case .filtered: return false
    case .failed(let e): throw e
    }
}

/// The transformed value as text (the original when unchanged), or "error:<kind>".
func transformed(_ transform: String, _ value: String) throws -> String {
    switch try run1(transform: transform, value: value) {
    case .produce(let o):
        if case .bytes(let b) = o.value { return b.map { String(decoding: $0, as: UTF8.self) } ?? "null" }
        return value
    case .filtered: return "filtered"
    case .failed(let e): return "error:\(e.kind.rawValue)"
    }
}

func output(_ r: DestinationResult) -> OutputRecord? {
    if case .produce(let o) = r { return o }
    return nil
}

func keyText(_ r: DestinationResult) -> String? {
    guard let o = output(r), case .bytes(let b) = o.key else { return nil }
    return b.map { String(decoding: $0, as: UTF8.self) }
}

func compileError(filter: String? = nil, transform: String? = nil, keyTransform: String? = nil,
                  timestamp: String? = nil) -> DSLCompileError? {
    do {
        _ = try Pipeline(routing: RoutingConfig(destinations: [DestinationConfig(output: "o", filter: filter, transform: transform,
                                                                                  keyTransform: keyTransform, timestamp: timestamp)]))
        return nil
    } catch {
        return error.errors.first
    }
}
