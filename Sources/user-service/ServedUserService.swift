import FastCGIServer
import HTTP
import Metrics
import UserService

/// The user service as the pool runs it: `Configuration` checks the environment (the env file over the inherited
/// one) and hands the pool its settings, `MetricsLayout` sizes the shared counters, and each worker's responder
/// is an `Application`.
enum ServedUserService {
    static func make(environmentFile: String?) -> ServedApplication {
        let restartOnly = RestartOnlySettings()
        return ServedApplication(
            version: ServiceVersion.version,
            configure: { inherited in
                if let environmentFile { try MigrationURLInEnvFile.check(environmentFile, command: "serve") }  // a reload too
                let environment = try Environment.load(inherited, file: environmentFile)
                let configuration = try Configuration.load(from: environment, defaultWorkers: Environment.processorCount())
                try Application.checkFiles(configuration)
                try restartOnly.check(configuration)
                // Each worker reads its configuration again: the master hands it the key ids it found, to compare.
                return PoolConfiguration(environment: configuration.workerEnvironment(environment), workers: configuration.workers,
                                         passwordWorkers: configuration.passwordWorkers,
                                         drainTimeoutSeconds: configuration.drainTimeoutSeconds, warnings: configuration.warnings)
            },
            metricsShape: { processCount in
                let layout = MetricsLayout(processCount: processCount)
                return MetricsShape(routeCount: layout.routeCount, slotCount: layout.slotCount)
            },
            makeResponder: { environment, counters, metrics in
                let configuration = try Configuration.loadInWorker(from: environment)
                let layout = MetricsLayout(routeCount: metrics.routeCount, processCount: metrics.processCount)
                return try Application(configuration: configuration, counters: counters, layout: layout)
            })
    }
}

extension Environment {
    /// The inherited environment with the env file (systemd's `EnvironmentFile=` format) over it.
    static func load(_ inherited: [String: String], file: String?) throws -> [String: String] {
        var environment = inherited
        if let file {
            for (key, value) in try EnvironmentFile.load(path: file) { environment[key] = value }
        }
        return environment
    }
}
