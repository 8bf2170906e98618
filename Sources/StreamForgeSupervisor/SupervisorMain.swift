// The supervisor's main loop: one thread, one poll(2) over the signal pipe, every worker's
// socket, the control socket and its clients, with the machine's timers as the timeout. The
// loop turns what it reads into `SupervisorMachine` events and performs the actions that come
// back (spawn, send, kill, notify, log, exit). Nothing else touches processes or signals.
//
// Why poll(2) and not swift-nio: a handful of descriptors, no throughput to speak of, and a
// single thread makes the ordering of spawns, reaps and replies obvious (no data races to
// reason about, nothing to do in signal context but record).

#if canImport(Glibc)
import Glibc
#endif
import Logging
public import StreamForgeCore
import StreamForgeIPC

public enum SupervisorMain {
    /// Runs the supervisor until it stops; returns the process exit status (0 after a clean
    /// drain, 78 when every worker refused the configuration, 1 on a startup failure).
    /// - Parameters:
    ///   - configPath: the file workers are started with and reloads re-read.
    ///   - config: the configuration already loaded and validated from `configPath`.
    ///   - workersOverride: `--workers`; wins over the config's `workers`, also on reload.
    ///   - controlSocketOverride: `--control-socket`.
    ///   - executable: what to spawn as a worker, asked at each spawn (the real path of this
    ///     binary while it is the running one), run as `executable worker --config PATH --slot K`.
    ///   - stopTimeout: drain → SIGKILL deadline; keep it below the unit's TimeoutStopSec.
    ///   - version: shown by `status`.
    ///   - workerArguments: appended to every worker's command line (e.g. `--brokers`).
    public static func run(configPath: String, config: StreamForgeConfig, workersOverride: Int?,
                           controlSocketOverride: String?, executable: @escaping @Sendable () -> String,
                           stopTimeout: Duration = .seconds(20), version: String = "dev",
                           workerArguments: [String] = [],
                           validate: @escaping @Sendable (StreamForgeConfig) -> [String] = { _ in [] }) -> Int32 {
        let logger = Logger(label: "streamforged")
        let loop: SupervisorLoop
        var socketPath = controlSocketOverride ?? config.controlSocket
        if controlSocketOverride == nil {
            let (path, note) = ControlSocketLocation.resolve(socketPath, environment: processEnvironment())
            if let note { logger.notice("control socket: \(note)", metadata: ["control_socket": "\(path)"]) }
            socketPath = path
        }
        do {
            loop = try SupervisorLoop(configPath: configPath, config: config, workersOverride: workersOverride,
                                      controlSocketPath: socketPath,
                                      executable: executable, policy: SupervisorPolicy(config.supervision, stopTimeout: stopTimeout),
                                      version: version, workerArguments: workerArguments, validate: validate,
                                      logger: logger)
        } catch {
            logger.critical("unable to start the supervisor", metadata: ["error": "\(error)"])
            return 1
        }
        return loop.run()
    }
}

/// A worker process's link, as the loop sees it.
private final class WorkerLink {
    let slot: Int
    let pid: Int32
    var fd: Int32
    var framer = LineFramer(maxFrameSize: LineFramer.defaultWorkerLinkLimit)
    init(slot: Int, pid: Int32, fd: Int32) {
        self.slot = slot
        self.pid = pid
        self.fd = fd
    }
}

final class SupervisorLoop {
    private var machine: SupervisorMachine
    private let configPath: String
    private var config: StreamForgeConfig
    private let workersOverride: Int?
    private let executable: @Sendable () -> String
    private let version: String
    private let workerArguments: [String]
    /// Checks a loaded configuration further (librdkafka properties) before workers get it.
    private let validate: @Sendable (StreamForgeConfig) -> [String]
    private var logger: Logger
    private let signals: SignalPipe
    private let control: ControlServer
    /// `/metrics`, `/healthz`, `/readyz`; nil when off or when its address could not be bound.
    private var http: HTTPEndpoint?
    private let notifier = SystemdNotifier()
    private var links: [Int32: WorkerLink] = [:]
    private var exitCode: Int32?
    private var timer: Duration?
    private var stats = StatsLine()
    private var nextStats: Duration
    private var nextStatus: Duration
    private var lastStatus = ""
    private let watchdogInterval: Duration?
    private var nextWatchdog: Duration?
    private let myPid = getpid()

    init(configPath: String, config: StreamForgeConfig, workersOverride: Int?, controlSocketPath: String,
         executable: @escaping @Sendable () -> String, policy: SupervisorPolicy, version: String, workerArguments: [String],
         validate: @escaping @Sendable (StreamForgeConfig) -> [String], logger: Logger) throws(SysError) {
        self.workerArguments = workerArguments
        self.validate = validate
        self.configPath = configPath
        self.config = config
        self.workersOverride = workersOverride
        self.executable = executable
        self.version = version
        self.logger = logger
        signals = try SignalPipe()
        control = try ControlServer(path: controlSocketPath)
        if let listen = config.observability.metricsListen {
            do {
                http = try HTTPEndpoint(listen: listen)
            } catch {
                // The replication matters more than its metrics: run without them, loudly.
                logger.error("unable to serve /metrics, /healthz and /readyz; running without them", metadata: [
                    "metrics": "\(listen)", "error": "\(error)",
                ])
            }
        }
        let now = Posix.monotonicNow()
        machine = SupervisorMachine(policy: policy, now: now)
        nextStats = now + .seconds(max(1, config.observability.statsIntervalSeconds))
        nextStatus = now + .seconds(1)
        watchdogInterval = notifier.watchdogInterval
        nextWatchdog = watchdogInterval.map { now + $0 }
    }

    private func workerCount(_ config: StreamForgeConfig) -> Int {
        workersOverride ?? config.workers ?? Posix.cpuCount()
    }

    func run() -> Int32 {
        logger.notice("supervisor started", metadata: [
            "pid": "\(myPid)", "config": "\(configPath)", "control_socket": "\(control.path)",
            "workers": "\(workerCount(config))",
            "metrics": "\(http.map { "http://\($0.boundAddress)/metrics" } ?? "off")",
        ])
        feed(.tick(Posix.monotonicNow()))
        feed(.configureAutoscale(config.autoscale))
        feed(.start(workers: machine.autoscaler?.clamp(workerCount(config)) ?? workerCount(config)))
        var poller = Poller()
        while exitCode == nil {
            poller.reset()
            poller.add(signals.readEnd)
            control.register(in: &poller)
            http?.register(in: &poller)
            for link in links.values where link.fd >= 0 { poller.add(link.fd) }
            poller.wait(timeout: timeout())

            let now = Posix.monotonicNow()
            // A timer that fired is spent (the machine arms the next one); kept, it would make
            // every later poll return at once.
            if let t = timer, t <= now { timer = nil }
            feed(.tick(now))
            for signal in signals.drain() { onSignal(signal) }
            reap()
            for link in Array(links.values) where link.fd >= 0 && poller.isReadable(link.fd) {
                readLink(link)
            }
            control.service(poller, now: now) { command in dispatch(command) }
            http?.service(poller, now: now) { _, path in serveHTTP(path) }
            periodic(now)
        }
        control.shutdown()
        http?.shutdown()
        signals.restore()
        notifier.status("stopped")
        logger.notice("supervisor exiting", metadata: ["status": "\(exitCode!)"])
        return exitCode!
    }

    private func timeout() -> Duration? {
        let now = Posix.monotonicNow()
        var deadline = min(nextStats, nextStatus)
        if let t = timer { deadline = min(deadline, t) }
        if let w = nextWatchdog { deadline = min(deadline, w) }
        return deadline > now ? deadline - now : .zero
    }

    // MARK: - Events in

    private func onSignal(_ signal: Int32) {
        switch signal {
        case SIGTERM: feed(.signal(.terminate))
        case SIGINT: feed(.signal(.interrupt))
        case SIGHUP:
            logger.notice("reloading on SIGHUP")
            _ = reload()
        default: break // SIGCHLD: reaped below
        }
    }

    private func reap() {
        while let (pid, status) = Posix.reapOne() {
            if let link = links.removeValue(forKey: pid) {
                // Read what the worker wrote before it exited (its final snapshot).
                if link.fd >= 0 {
                    readLink(link)
                    if link.fd >= 0 { Posix.close(link.fd) }
                }
            }
            feed(.exited(pid: pid, status: status))
        }
    }

    private func readLink(_ link: WorkerLink) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while link.fd >= 0 {
            switch Posix.read(link.fd, into: &buffer) {
            case .wouldBlock: return
            case .closed:
                Posix.close(link.fd)
                link.fd = -1
                return
            case .data(let n):
                link.framer.append(buffer[0..<n])
                while true {
                    do {
                        guard let line = try link.framer.next() else { break }
                        let message = try LineCodec.decode(WorkerMessage.self, from: line)
                        onMessage(message, from: link)
                    } catch {
                        logger.warning("unreadable message from worker", metadata: [
                            "sf.worker.slot": "\(link.slot)", "sf.worker.pid": "\(link.pid)", "error": "\(error)",
                        ])
                    }
                }
            }
        }
    }

    private func onMessage(_ message: WorkerMessage, from link: WorkerLink) {
        switch message {
        case .hello(let slot, let pid):
            feed(.heard(pid: link.pid))
            if slot != link.slot || pid != link.pid {
                logger.warning("worker hello does not match", metadata: [
                    "sf.worker.slot": "\(link.slot)", "sf.worker.pid": "\(link.pid)", "hello": "slot=\(slot) pid=\(pid)",
                ])
            }
        case .ready(let assigned): feed(.ready(pid: link.pid, assigned: assigned))
        case .snapshot(let snapshot): feed(.snapshot(pid: link.pid, snapshot))
        case .error(let text): feed(.workerError(pid: link.pid, message: text))
        }
    }

    private func dispatch(_ command: ControlCommand) -> ControlReply {
        let target = machine.target
        switch command {
        case .status:
            return .success(.status(report()))
        case .scale(let n):
            guard machine.phase != .stopping else { return .failure("the daemon is stopping") }
            feed(.scale(workers: n))
            return .success(message: n == target ? "already at \(n) workers" : "scaling from \(target) to \(n) workers")
        case .reload:
            return reload()
        case .drain, .stop:
            feed(.stop)
            return .success(message: "draining \(machine.slots.filter { $0.process != nil }.count) workers, then stopping")
        case .pause:
            feed(.pause)
            return .success(message: "paused")
        case .resume:
            feed(.resume)
            return .success(message: "resumed")
        case .autoscale(let enabled):
            guard let a = machine.autoscaler else {
                return .failure("autoscale is not configured: add an 'autoscale' block to \(configPath) and reload")
            }
            feed(.autoscale(enabled: enabled))
            return .success(message: enabled
                ? "autoscale on: \(a.config.min)…\(a.config.max) workers by lag (now \(machine.target))"
                : "autoscale off: \(machine.target) workers until 'autoscale on'")
        }
    }

    /// Validates the configuration file again; if it is good, rolls the workers onto it.
    private func reload() -> ControlReply {
        guard machine.phase != .stopping else { return .failure("the daemon is stopping") }
        notifier.reloading()
        let loaded: StreamForgeConfig
        do {
            loaded = try ConfigLoader.load(path: configPath, environment: processEnvironment())
        } catch {
            let text = error.rendered
            logger.error("unable to reload the configuration, keeping the running one", metadata: [
                "config": "\(configPath)", "diagnostics": "\(text.trimmingSuffixNewlines())",
            ])
            notifier.ready(status: "reload failed: invalid configuration; \(machine.statusLine())")
            return .failure("unable to reload \(configPath):\n" + text)
        }
        let problems = validate(loaded)
        if !problems.isEmpty {
            let text = problems.joined(separator: "\n")
            logger.error("unable to reload the configuration, keeping the running one", metadata: [
                "config": "\(configPath)", "diagnostics": "\(text)",
            ])
            notifier.ready(status: "reload failed: invalid configuration; \(machine.statusLine())")
            return .failure("unable to reload \(configPath):\n" + text)
        }
        if loaded.controlSocket != config.controlSocket {
            logger.warning("control_socket changed; it takes effect at the next restart")
        }
        if loaded.observability.metricsListen != config.observability.metricsListen {
            logger.warning("metrics changed; it takes effect at the next restart")
        }
        config = loaded
        machine.apply(policy: SupervisorPolicy(loaded.supervision, stopTimeout: machine.policy.stopTimeout))
        feed(.configureAutoscale(loaded.autoscale))
        // Autoscaling keeps the scale it reached (within the new limits).
        let n = machine.autoscaler.map { $0.enabled ? $0.clamp(machine.target) : machine.target } ?? workerCount(loaded)
        feed(.reload(workers: n))
        return .success(message: "configuration valid; rolling \(n) workers one at a time")
    }

    private func serveHTTP(_ path: String) -> HTTPResponse {
        switch path {
        case "/metrics":
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                body: machine.prometheusExposition(version: version, appid: config.appid))
        case "/healthz":
            // Answered by the supervisor's loop itself: an answer means the loop runs.
            return .text("ok\n")
        case "/readyz":
            let reasons = machine.notReadyReasons()
            return reasons.isEmpty ? .text("ready\n") : .text("not ready: " + reasons.joined(separator: "; ") + "\n", status: 503)
        case "/":
            return .text("streamforged \(version): /metrics /healthz /readyz\n")
        default:
            return .text("not found: \(path)\n", status: 404)
        }
    }

    private func report() -> StatusReport {
        var report = machine.statusReport(pid: myPid, version: version, configPath: configPath, appid: config.appid)
        report.controlSocket = control.path
        report.metrics = http.map { "http://\($0.boundAddress)/metrics" }
        return report
    }

    // MARK: - Actions out

    private func feed(_ event: SupervisorMachine.Event) {
        var queue = machine.handle(event)
        while !queue.isEmpty {
            let action = queue.removeFirst()
            queue += perform(action)
        }
    }

    /// Performs one action; returns the machine's answer to what happened (spawns).
    private func perform(_ action: SupervisorMachine.Action) -> [SupervisorMachine.Action] {
        switch action {
        case .spawn(let slot):
            return spawn(slot: slot)
        case .send(let pid, let command):
            guard let link = links[pid], link.fd >= 0 else { return [] }
            if Posix.sendSome(link.fd, LineCodec.encode(WorkerCommandFrame(command))[...]) == nil {
                logger.debug("worker link closed", metadata: ["sf.worker.pid": "\(pid)"])
            }
        case .kill(let pid, let signal):
            Posix.kill(pid, signal)
        case .notify(let notification):
            notifier.notify(notification, status: machine.statusLine())
            if notification == .ready { lastStatus = machine.statusLine() }
        case .armTimer(let at):
            timer = at
        case .log(let entry):
            log(entry)
        case .exit(let code):
            exitCode = code
        }
        return []
    }

    private func spawn(slot: Int) -> [SupervisorMachine.Action] {
        let arguments = ["worker", "--config", configPath, "--slot", String(slot)] + workerArguments
        do throws(SysError) {
            let (parentEnd, childEnd) = try Posix.socketPair()
            defer { Posix.close(childEnd) }
            let pid: Int32
            do {
                pid = try Spawner.spawn(executable: executable(), arguments: arguments,
                                        environment: Spawner.workerEnvironment(processEnvironment(), supervisorPid: myPid),
                                        childEnd: childEnd)
            } catch {
                Posix.close(parentEnd)
                throw error
            }
            Posix.setNonBlocking(parentEnd)
            links[pid] = WorkerLink(slot: slot, pid: pid, fd: parentEnd)
            return machine.handle(.spawned(slot: slot, pid: pid))
        } catch {
            return machine.handle(.spawnFailed(slot: slot, reason: error.description))
        }
    }

    private func log(_ entry: LogEntry) {
        let level: Logger.Level
        switch entry.level {
        case .debug: level = .debug
        case .info: level = .info
        case .notice: level = .notice
        case .warning: level = .warning
        case .error: level = .error
        }
        var metadata = Logger.Metadata()
        for (k, v) in entry.metadata { metadata[k] = .string(v) }
        logger.log(level: level, "\(entry.message)", metadata: metadata)
    }

    // MARK: - Periodic work

    private func periodic(_ now: Duration) {
        if now >= nextStats {
            logger.info("\(stats.line(totals: machine.totalCounters, now: now))")
            nextStats = now + .seconds(max(1, config.observability.statsIntervalSeconds))
        }
        if now >= nextStatus {
            let line = machine.statusLine()
            if line != lastStatus {
                notifier.status(line)
                lastStatus = line
            }
            nextStatus = now + .seconds(1)
        }
        if let interval = watchdogInterval, let at = nextWatchdog, now >= at {
            notifier.watchdog()
            nextWatchdog = now + interval
        }
    }
}

private func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let text = String(decoding: UnsafeRawBufferPointer(start: entry, count: strlen(entry)), as: UTF8.self)
        if let eq = text.firstIndex(of: "=") {
            result[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        p += 1
    }
    return result
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
