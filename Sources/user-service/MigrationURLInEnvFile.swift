import UserService

/// `MIGRATION_DATABASE_URL` (the schema owner's credentials) set in an env file given with `--env-file`: refused by
/// `serve` (at start and on every reload) and `migrate`. It belongs in migrate.env, which systemd reads for the
/// migrate unit only; in the pool's file the pool's group could read it, and even an empty value would override the
/// one systemd passes (the file is laid over the process environment).
struct MigrationURLInEnvFile: Error, CustomStringConvertible {
    let file: String
    let command: String

    var description: String {
        "\(file) sets MIGRATION_DATABASE_URL: remove it from there (\(command) refuses it in --env-file; "
            + "it belongs in /etc/user-service/migrate.env, see docs/deploy.md)"
    }

    static func check(_ file: String, command: String) throws {
        if try EnvironmentFile.load(path: file)["MIGRATION_DATABASE_URL"] != nil {
            throw MigrationURLInEnvFile(file: file, command: command)
        }
    }
}
