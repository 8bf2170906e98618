// The configuration model. Keys follow the existing StreamForge (Rust) tool so that its
// users can bring their files unchanged; `ConfigLoader` builds this from JSON or YAML and
// reports every problem with its location.

public import StreamForgeLanguage

/// A source: a list of topics, or a `^regex` subscription.
public enum InputSpec: Sendable, Equatable {
    case topics([String])
    case pattern(String)

    /// The subscription list as librdkafka takes it (a regex keeps its leading `^`).
    public var subscription: [String] {
        switch self {
        case .topics(let topics): return topics
        case .pattern(let pattern): return [pattern]
        }
    }
}

public enum OffsetReset: String, Sendable, Equatable {
    case earliest, latest, error
}

public enum DeliveryGuarantee: String, Sendable, Equatable {
    case atLeastOnce = "at-least-once"
    case atMostOnce = "at-most-once"
}

/// How offset commits are sent to the group coordinator.
public enum CommitMode: String, Sendable, Equatable {
    /// Commit without waiting for the coordinator's answer (the interval commits).
    case async
    /// Wait for the coordinator's answer before going on.
    case sync
}

public struct CommitStrategy: Sendable, Equatable {
    /// How often stored offsets are committed.
    public var commitIntervalMs: Int
    /// `commit_strategy.commit_mode`: async (default) or sync.
    public var commitMode: CommitMode
    public init(commitIntervalMs: Int = 1000, commitMode: CommitMode = .async) {
        self.commitIntervalMs = commitIntervalMs
        self.commitMode = commitMode
    }
}

public struct DLQConfig: Sendable, Equatable {
    /// The topic used when `dlq.topic` is not given (the same default as the older tool).
    public static let defaultTopic = "streamforge-dlq"

    public var enabled: Bool
    /// The dead-letter topic; the loader sets `defaultTopic` when the DLQ is enabled and no
    /// topic is given.
    public var topic: String?
    /// Add `x-error-*` headers that say why the record was dead-lettered.
    public var includeErrorHeaders: Bool
    /// Bootstrap servers of the cluster that holds the DLQ topic; nil = the target cluster.
    public var brokers: String?
    /// Keep the source record's headers on the dead-lettered copy.
    public var includeOriginalHeaders: Bool
    /// Add internal detail (the failing operation) to the error headers.
    public var includeStackTrace: Bool
    /// Attempts to produce to the DLQ before the worker stops (a record is never dropped).
    public var maxDlqRetries: Int
    /// librdkafka `compression.codec` for the DLQ producer, or nil for the producer default.
    public var compression: String?

    public init(enabled: Bool = true, topic: String? = nil, includeErrorHeaders: Bool = true,
                brokers: String? = nil, includeOriginalHeaders: Bool = true, includeStackTrace: Bool = false,
                maxDlqRetries: Int = 3, compression: String? = nil) {
        self.enabled = enabled
        self.topic = topic
        self.includeErrorHeaders = includeErrorHeaders
        self.brokers = brokers
        self.includeOriginalHeaders = includeOriginalHeaders
        self.includeStackTrace = includeStackTrace
        self.maxDlqRetries = maxDlqRetries
        self.compression = compression
    }
}

public struct RetryConfig: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int
    public var multiplier: Double
    /// Random spread added to each delay, as a fraction of it (0 ... 1).
    public var jitter: Double
    public init(maxAttempts: Int = 3, initialBackoffMs: Int = 100, maxBackoffMs: Int = 30000, multiplier: Double = 2.0,
                jitter: Double = 0.1) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
        self.multiplier = multiplier
        self.jitter = jitter
    }
}

public struct ObservabilityConfig: Sendable, Equatable {
    /// Seconds between the supervisor's `Stats:` lines.
    public var statsIntervalSeconds: Int
    /// `host:port` of the /metrics, /healthz and /readyz endpoint, or nil for none.
    public var metricsListen: String?
    /// Where the endpoint listens unless the file says otherwise: loopback only.
    public static let defaultMetricsListen = "127.0.0.1:9464"
    public init(statsIntervalSeconds: Int = 10, metricsListen: String? = ObservabilityConfig.defaultMetricsListen) {
        self.statsIntervalSeconds = statsIntervalSeconds
        self.metricsListen = metricsListen
    }
}

/// Scaling the workers of one host by total lag (`autoscale`).
public struct AutoscaleConfig: Codable, Sendable, Hashable {
    public var min: Int
    public var max: Int
    /// Add a worker when the host's total lag stays above this for `forSeconds`.
    public var scaleUpLag: Int64
    /// Remove one when it stays below this for `forSeconds`.
    public var scaleDownLag: Int64
    public var forSeconds: Int
    /// No decision for this long after one.
    public var cooldownSeconds: Int

    public init(min: Int = 1, max: Int, scaleUpLag: Int64 = 10_000, scaleDownLag: Int64 = 100,
                forSeconds: Int = 60, cooldownSeconds: Int = 120) {
        self.min = min
        self.max = max
        self.scaleUpLag = scaleUpLag
        self.scaleDownLag = scaleDownLag
        self.forSeconds = forSeconds
        self.cooldownSeconds = cooldownSeconds
    }
}

/// How the supervisor watches its workers: respawn backoff, liveness, stalled deliveries.
public struct SupervisionConfig: Sendable, Equatable {
    /// The respawn delay doubles from 1 s up to this (`restart_backoff_max`).
    public var restartBackoffMaxSeconds: Int
    /// A worker that sends nothing for this long is killed and respawned (`worker_timeout`).
    /// Workers report every second; keep it below `session.timeout.ms`.
    public var workerTimeoutSeconds: Int
    /// A worker with records waiting and no delivery acknowledged for this long is `stalled`
    /// (`stall_timeout`).
    public var stallTimeoutSeconds: Int
    /// With no healthy worker for this long, the supervisor drains and exits 75 so that
    /// systemd's restart policy and alerting take over (`exit_after_unhealthy`); nil = never.
    public var exitAfterUnhealthySeconds: Int?

    public init(restartBackoffMaxSeconds: Int = 60, workerTimeoutSeconds: Int = 5, stallTimeoutSeconds: Int = 10,
                exitAfterUnhealthySeconds: Int? = nil) {
        self.restartBackoffMaxSeconds = restartBackoffMaxSeconds
        self.workerTimeoutSeconds = workerTimeoutSeconds
        self.stallTimeoutSeconds = stallTimeoutSeconds
        self.exitAfterUnhealthySeconds = exitAfterUnhealthySeconds
    }
}

/// The whole configuration, validated.
/// The configuration key that set a librdkafka property, and where.
public struct PropertyOrigin: Sendable, Equatable {
    /// `consumer_properties["linger.ms"]`, `security`, `compression`, ...
    public var keyPath: String
    public var location: SourceLocation

    public init(keyPath: String, location: SourceLocation) {
        self.keyPath = keyPath
        self.location = location
    }
}

public struct StreamForgeConfig: Sendable, Equatable {
    /// Where the file was read from (for `status` and messages).
    public var sourcePath: String
    public var appid: String
    public var bootstrap: String
    public var targetBroker: String?
    public var input: InputSpec
    /// Single-destination shorthand; may hold `{source_topic}`.
    public var output: String?
    /// Value transform of the single `output` destination (ignored when `routing` is set).
    public var transform: String?
    /// Partitioner of the single `output` destination (ignored when `routing` is set).
    public var partition: PartitionSpec = .keyHash
    /// Where the top-level language strings were written (`transform`, `partition`), as on
    /// `DestinationConfig`.
    public var locations: [String: LocatedString]
    public var offset: OffsetReset
    public var threads: Int
    /// Worker processes; nil = number of CPUs.
    public var workers: Int?
    public var staticMembership: Bool
    public var delivery: DeliveryGuarantee
    /// The user's librdkafka properties in file order. The worker applies them last, after its
    /// defaults and the source (resp. target) security properties, so they win on a shared key.
    public var consumerProperties: [(key: String, value: String)]
    public var producerProperties: [(key: String, value: String)]
    /// Where each librdkafka property of the file was set (`consumer_properties`,
    /// `producer_properties`, the security blocks, `compression`), by `propertyKey(client, key)`
    /// with client `consumer` or `producer`, so a property librdkafka refuses is located like any
    /// problem.
    public var propertyOrigins: [String: PropertyOrigin] = [:]

    public static func propertyKey(_ client: String, _ key: String) -> String { client + "\u{1F}" + key }

    /// Security for the source cluster and the target cluster, as librdkafka properties.
    public var sourceSecurity: [(key: String, value: String)]
    public var targetSecurity: [(key: String, value: String)]
    /// librdkafka `compression.codec` for the producer, or nil.
    public var compression: String?
    public var commitStrategy: CommitStrategy
    public var routing: RoutingConfig?
    public var retry: RetryConfig
    public var dlq: DLQConfig
    public var observability: ObservabilityConfig
    public var supervision: SupervisionConfig
    public var controlSocket: String
    /// Names this host in static membership ids (`<appid>-<host_id>-<slot>`); nil = the
    /// hostname. Set it where hosts share a hostname (containers, clones) or for tests.
    public var hostId: String?
    /// Scale the workers by lag; nil = the worker count stays as configured.
    public var autoscale: AutoscaleConfig?
    /// Lookup tables for `CACHE_PUT` / `CACHE_LOOKUP`, or nil when the file has no `cache`.
    public var cache: CacheConfig?

    public init(sourcePath: String = "<memory>", appid: String, bootstrap: String, targetBroker: String? = nil,
                input: InputSpec, output: String? = nil, offset: OffsetReset = .latest, threads: Int = 4,
                workers: Int? = nil, staticMembership: Bool = true, delivery: DeliveryGuarantee = .atLeastOnce,
                consumerProperties: [(key: String, value: String)] = [],
                producerProperties: [(key: String, value: String)] = [],
                sourceSecurity: [(key: String, value: String)] = [],
                targetSecurity: [(key: String, value: String)] = [],
                compression: String? = nil, commitStrategy: CommitStrategy = .init(),
                routing: RoutingConfig? = nil, retry: RetryConfig = .init(), dlq: DLQConfig = .init(),
                observability: ObservabilityConfig = .init(), supervision: SupervisionConfig = .init(),
                controlSocket: String = "/run/streamforge/control.sock",
                transform: String? = nil, cache: CacheConfig? = nil,
                locations: [String: LocatedString] = [:]) {
        self.sourcePath = sourcePath
        self.appid = appid
        self.bootstrap = bootstrap
        self.targetBroker = targetBroker
        self.input = input
        self.output = output
        self.offset = offset
        self.threads = threads
        self.workers = workers
        self.staticMembership = staticMembership
        self.delivery = delivery
        self.consumerProperties = consumerProperties
        self.producerProperties = producerProperties
        self.sourceSecurity = sourceSecurity
        self.targetSecurity = targetSecurity
        self.compression = compression
        self.commitStrategy = commitStrategy
        self.routing = routing
        self.retry = retry
        self.dlq = dlq
        self.observability = observability
        self.supervision = supervision
        self.controlSocket = controlSocket
        self.transform = transform
        self.cache = cache
        self.locations = locations
    }

    /// The target cluster's bootstrap servers (`target_broker`, else `bootstrap`).
    public var targetBootstrap: String { targetBroker ?? bootstrap }

    /// Every destination: `routing.destinations`, or the single `output`.
    public var destinations: [DestinationConfig] {
        if let routing { return routing.destinations }
        if let output {
            var single = DestinationConfig(output: output, transform: transform, partition: partition)
            single.locations = locations
            return [single]
        }
        return []
    }

    public static func == (a: StreamForgeConfig, b: StreamForgeConfig) -> Bool {
        func eq(_ x: [(key: String, value: String)], _ y: [(key: String, value: String)]) -> Bool {
            x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
        }
        return a.sourcePath == b.sourcePath && a.appid == b.appid && a.bootstrap == b.bootstrap
            && a.targetBroker == b.targetBroker && a.input == b.input && a.output == b.output
            && a.offset == b.offset && a.threads == b.threads && a.workers == b.workers
            && a.staticMembership == b.staticMembership && a.delivery == b.delivery
            && eq(a.consumerProperties, b.consumerProperties) && eq(a.producerProperties, b.producerProperties)
            && eq(a.sourceSecurity, b.sourceSecurity) && eq(a.targetSecurity, b.targetSecurity)
            && a.compression == b.compression && a.commitStrategy == b.commitStrategy
            && a.routing == b.routing && a.retry == b.retry && a.dlq == b.dlq
            && a.observability == b.observability && a.supervision == b.supervision && a.hostId == b.hostId && a.autoscale == b.autoscale && a.controlSocket == b.controlSocket
            && a.transform == b.transform && a.partition == b.partition && a.cache == b.cache
    }
}
