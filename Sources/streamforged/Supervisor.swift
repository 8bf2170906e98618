import StreamForgeCore
import StreamForgeWorker

/// Until the supervisor module lands, the daemon runs one worker in process.
func runSupervisor(configPath: String, config: StreamForgeConfig, brokersOverride: String?,
                   workersOverride: Int?, controlSocketOverride: String?) -> Int32 {
    runWorker(config: config, slot: 0, exitAfterRecords: nil, link: nil)
}
