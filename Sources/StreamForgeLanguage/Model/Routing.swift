// The routing model: destinations and their language strings as written, the input of the
// language compiler (Pipeline). StreamForgeCore reads them from the configuration file.

/// Where a destination's records go to a partition.
public enum PartitionSpec: Sendable, Equatable {
    /// murmur2 of the key, as the Java client does (the default).
    case keyHash
    /// Keep the source partition number.
    case preserve
    /// Hash of the JSON field at this pointer (needs the payload).
    case field(String)
}

public enum ErrorPolicy: String, Sendable, Equatable {
    case dlq
    case skipAndLog = "skip_and_log"
    case fail
}

public struct HeaderTransformSpec: Sendable, Equatable {
    public var header: String
    public var operation: String
    public init(header: String, operation: String) {
        self.header = header
        self.operation = operation
    }
}

/// One routing destination. The language strings (`filter`, `transform`, ...) are kept as
/// written, with their source location, and compiled by the DSL.
public struct DestinationConfig: Sendable, Equatable {
    public var output: String
    public var filter: String?
    public var transform: String?
    public var keyTransform: String?
    public var headers: [(name: String, value: String)]
    public var headerTransforms: [HeaderTransformSpec]
    public var timestamp: String?
    public var partition: PartitionSpec
    public var errorPolicy: ErrorPolicy
    public var matchValue: String?
    public var description: String?
    /// Where each language string was written, keyed by its key as written relative to the
    /// destination: `filter`, `transform`, `key_transform`, `timestamp`, `partition`,
    /// `headers.<name>`, `header_transforms[<i>].operation`. The DSL compiler reports its
    /// errors through these. Not part of equality (two files that mean the same are equal).
    public var locations: [String: LocatedString]

    public init(output: String, filter: String? = nil, transform: String? = nil,
                keyTransform: String? = nil, headers: [(name: String, value: String)] = [],
                headerTransforms: [HeaderTransformSpec] = [], timestamp: String? = nil,
                partition: PartitionSpec = .keyHash, errorPolicy: ErrorPolicy = .dlq,
                matchValue: String? = nil, description: String? = nil,
                locations: [String: LocatedString] = [:]) {
        self.output = output
        self.filter = filter
        self.transform = transform
        self.keyTransform = keyTransform
        self.headers = headers
        self.headerTransforms = headerTransforms
        self.timestamp = timestamp
        self.partition = partition
        self.errorPolicy = errorPolicy
        self.matchValue = matchValue
        self.description = description
        self.locations = locations
    }

    /// True when records pass through byte for byte: nothing reads or rewrites the payload
    /// or the envelope.
    public var isPureMirror: Bool {
        filter == nil && transform == nil && keyTransform == nil && headers.isEmpty
            && headerTransforms.isEmpty && (timestamp == nil || timestamp?.uppercased() == "PRESERVE")
            && { if case .field = partition { return false } else { return true } }()
    }

    public static func == (a: DestinationConfig, b: DestinationConfig) -> Bool {
        a.output == b.output && a.filter == b.filter && a.transform == b.transform
            && a.keyTransform == b.keyTransform && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value) && a.headerTransforms == b.headerTransforms
            && a.timestamp == b.timestamp && a.partition == b.partition && a.errorPolicy == b.errorPolicy
            && a.matchValue == b.matchValue && a.description == b.description
    }
}

public enum RoutingType: String, Sendable, Equatable {
    case filter
    case content
}

public struct RoutingConfig: Sendable, Equatable {
    /// Destinations per configuration: a delivery id carries the index in 6 bits, one value
    /// of which is the dead-letter topic's.
    public static let maxDestinations = 62

    public var routingType: RoutingType
    /// JSON pointer read for `content` routing.
    public var path: String?
    public var destinations: [DestinationConfig]
    public init(routingType: RoutingType = .filter, path: String? = nil, destinations: [DestinationConfig]) {
        self.routingType = routingType
        self.path = path
        self.destinations = destinations
    }
}

/// The in-process lookup tables used by `CACHE_PUT` / `CACHE_LOOKUP` (`cache.local`).
public struct CacheConfig: Sendable, Equatable {
    /// Entries per table before the least recently used ones are evicted.
    public var maxCapacity: Int
    /// Entries expire this long after they were written; nil = never.
    public var ttlSeconds: Int?
    /// Entries expire this long after they were last read; nil = never.
    public var ttiSeconds: Int?
    public init(maxCapacity: Int = 10_000, ttlSeconds: Int? = nil, ttiSeconds: Int? = nil) {
        self.maxCapacity = maxCapacity
        self.ttlSeconds = ttlSeconds
        self.ttiSeconds = ttiSeconds
    }
}

/// Resolves `{source_topic}` in an output topic template.
public func resolveTopicTemplate(_ template: String, sourceTopic: String) -> String {
    let marker = "{source_topic}"
    var result = ""
    var rest = Substring(template)
    while let range = rest.firstRange(of: marker) {
        result += rest[..<range.lowerBound]
        result += sourceTopic
        rest = rest[range.upperBound...]
    }
    return result + rest
}
