import StreamForgeCore
import StreamForgeIPC
import StreamForgeLanguage
import StreamForgeSupervisor
import StreamForgeWorker
import KafkaBridge

/// The daemon proper: spawns `workers` copies of this executable in worker mode.
func runSupervisor(configPath: String, config: StreamForgeConfig, brokersOverride: String?, workersOverride: Int?,
                   controlSocketOverride: String?, stopTimeoutSeconds: Int) -> Int32 {
    ProcessTitle.set("streamforged: supervisor [\(config.appid)]")
    return SupervisorMain.run(configPath: configPath, config: config, workersOverride: workersOverride,
                       controlSocketOverride: controlSocketOverride, executable: { ProcessTitle.executablePath() },
                       stopTimeout: .seconds(stopTimeoutSeconds), version: StreamForgeVersion.current,
                       workerArguments: brokersOverride.map { ["--brokers", $0] } ?? [],
                       validate: { ClientProperties.problems($0, check: librdkafkaPropertyProblems) })
}
