public import Postgres

extension Configuration {
    /// How the pool, the mailer, cleanup and the users commands connect: `DATABASE_URL` with the `DB_*` settings.
    public func connectionOptions(applicationName: String, statementTimeoutMilliseconds: Int? = nil) -> ConnectionOptions {
        ConnectionOptions(url: databaseURL, connectTimeoutSeconds: dbConnectTimeoutSeconds,
                          statementTimeoutMilliseconds: statementTimeoutMilliseconds ?? dbStatementTimeoutMilliseconds,
                          applicationName: applicationName, startupOptions: dbStartupOptions,
                          preparedStatements: dbPreparedStatements)
    }
}
