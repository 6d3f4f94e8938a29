/// The configuration as a worker reads it: the environment the master checked at start or reload, read again. The
/// master read the key files then; a worker started later (a restart after a crash, a reload's replacement) reads
/// them again, and must find the same keys, or it would sign with a key the rest of the pool does not know. The
/// master hands each worker the key ids it read (`keyIDsVariable`), and a worker that finds others, or cannot read
/// the configuration at all any more, refuses to start. Key files are never changed in place: a new key is a new
/// file, named in the env file, then a reload.
extension Configuration {
    /// Internal: set by the master in each worker's environment (a value in the env file is overwritten).
    public static let keyIDsVariable = "USER_SERVICE_KEY_IDS"

    /// The key files, the signing key's first.
    var keyFiles: [KeyFile] { (jwtPrivateKey.map { [$0] } ?? []) + jwtPublicKeys }

    /// The key files' ids (RFC 7638 thumbprints), as the master hands them to workers.
    public var keyFileIDs: String { keyFiles.map(\.keyID).joined(separator: ",") }

    /// `environment` with the key ids of this configuration for the workers.
    public func workerEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        environment[Self.keyIDsVariable] = keyFileIDs
        return environment
    }

    /// Reads a worker's configuration and checks that its key files hold the keys the master read.
    public static func loadInWorker(from environment: [String: String]) throws(ChangedConfiguration) -> Configuration {
        let configuration: Configuration
        do {
            configuration = try load(from: environment, defaultWorkers: 1)
        } catch {
            throw ChangedConfiguration(problem: "the configuration the pool accepted no longer loads (\(error))")
        }
        let expected = (environment[keyIDsVariable] ?? "").split(separator: ",").map(String.init)
        for (file, keyID) in zip(configuration.keyFiles, expected) where file.keyID != keyID {
            let variable = file.isPrivate ? "JWT_PRIVATE_KEY_FILE" : "JWT_PREVIOUS_PUBLIC_KEY_FILES (\(file.path))"
            throw ChangedConfiguration(problem: "\(variable) now holds the key \(file.keyID), not \(keyID) as when the pool read it")
        }
        guard configuration.keyFiles.count == expected.count else { throw ChangedConfiguration(problem: "the key files are not those the pool read") }
        return configuration
    }
}

/// A worker's configuration that differs from the one the master checked: the worker does not start.
public struct ChangedConfiguration: Error, CustomStringConvertible {
    public let problem: String
    public var description: String {
        "refusing to start: \(problem); key files are never changed in place: write the new key to a new file, name it in the env file and reload"
    }
}
