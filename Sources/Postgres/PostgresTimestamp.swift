/// A `timestamptz` as microseconds since the Unix epoch.
///
/// The connection pins `TimeZone=UTC` and `DateStyle=ISO`, so the server sends `2026-11-28 18:44:44.123456+00`.
public struct PostgresTimestamp: Hashable, Comparable, Sendable {
    public let microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    public static func < (a: Self, b: Self) -> Bool { a.microsecondsSinceEpoch < b.microsecondsSinceEpoch }

    public var secondsSinceEpoch: Int64 { microsecondsSinceEpoch >= 0 ? microsecondsSinceEpoch / 1_000_000 : (microsecondsSinceEpoch - 999_999) / 1_000_000 }

    public init?(postgresText text: String) {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count else { return nil }
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard b.count >= 22, b[4] == 45, b[7] == 45, b[10] == 32 || b[10] == 84, b[13] == 58, b[16] == 58,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        // Offset: +HH, +HH:MM or Z.
        guard i < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == 90 { i += 1 } else {
            guard b[i] == 43 || b[i] == 45, let hours = number(i + 1..<i + 3) else { return nil }
            var minutes: Int64 = 0
            var end = i + 3
            if end < b.count, b[end] == 58, let m = number(end + 1..<end + 3) { minutes = m; end += 3 }
            offsetSeconds = (hours * 3600 + minutes * 60) * (b[i] == 45 ? -1 : 1)
            i = end
        }
        guard i == b.count else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        microsecondsSinceEpoch = seconds * 1_000_000 + micros
    }

    /// ISO 8601 in UTC with microseconds, as Pydantic writes an aware datetime: `2026-11-28T18:44:44.123456Z`.
    public var iso8601: String {
        let seconds = secondsSinceEpoch
        let micros = microsecondsSinceEpoch - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civilFromDays(days)
        return String(unsafeUninitializedCapacity: 27) { out in
            var o = 0
            func digits(_ value: Int64, _ width: Int) {
                var v = value
                for i in stride(from: width - 1, through: 0, by: -1) {
                    out[o + i] = UInt8(48 + v % 10)
                    v /= 10
                }
                o += width
            }
            func char(_ c: Character) {
                out[o] = c.asciiValue!
                o += 1
            }
            digits(year, 4); char("-"); digits(month, 2); char("-"); digits(day, 2); char("T")
            digits(secondOfDay / 3600, 2); char(":"); digits(secondOfDay / 60 % 60, 2); char(":"); digits(secondOfDay % 60, 2)
            char("."); digits(micros, 6); char("Z")
            return o
        }
    }

    /// The date and time of day in UTC; `weekday` 0 is Sunday.
    public var utc: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        let seconds = secondsSinceEpoch
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civilFromDays(days)
        // 1970-01-01 was a Thursday.
        let weekday = ((days + 4) % 7 + 7) % 7
        return (Int(year), Int(month), Int(day), Int(secondOfDay / 3600), Int(secondOfDay / 60 % 60), Int(secondOfDay % 60), Int(weekday))
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
