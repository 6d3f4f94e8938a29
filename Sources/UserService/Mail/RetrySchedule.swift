/// When a failed mail is tried again: 5 s after the first failure, then twice as long after each further one, never
/// more than `maximumDelaySeconds` (`MAIL_RETRY_MAX_SECONDS`); after `maximumAttempts` (`MAIL_MAX_ATTEMPTS`) it is
/// given up. Unset, the attempts are as many as it takes for the retries to cover a day.
public struct RetrySchedule: Sendable, Equatable {
    public static let firstDelaySeconds = 5
    /// How long the default number of attempts keeps a mail alive through an outage.
    public static let coveredSeconds = 86_400

    public let maximumDelaySeconds: Int
    public let maximumAttempts: Int

    public init(maximumDelaySeconds: Int, maximumAttempts: Int? = nil) {
        self.maximumDelaySeconds = maximumDelaySeconds
        self.maximumAttempts = maximumAttempts ?? Self.attemptsCovering(Self.coveredSeconds, maximumDelaySeconds: maximumDelaySeconds)
    }

    /// The wait after the `attempt`-th attempt failed (1 for the first).
    public func delay(afterAttempt attempt: Int) -> Int {
        var delay = Self.firstDelaySeconds
        for _ in 1..<max(attempt, 1) where delay < maximumDelaySeconds { delay *= 2 }
        return min(delay, maximumDelaySeconds)
    }

    /// After the `attempt`-th attempt failed: the seconds until the next one, or nil when that was the last.
    public func nextAttempt(afterAttempt attempt: Int) -> Int? {
        attempt >= maximumAttempts ? nil : delay(afterAttempt: attempt)
    }

    /// The fewest attempts whose waits in between add up to at least `seconds`.
    static func attemptsCovering(_ seconds: Int, maximumDelaySeconds: Int) -> Int {
        let schedule = RetrySchedule(maximumDelaySeconds: maximumDelaySeconds, maximumAttempts: Int.max)
        var attempts = 1, waited = 0
        while waited < seconds {
            waited += schedule.delay(afterAttempt: attempts)
            attempts += 1
        }
        return attempts
    }
}
