/// An ISO 8601 date (`2025-01-31`, midnight UTC) or date-time (`2025-01-31T12:00`, `…:30`, `…:30.25`, then `Z`,
/// `+02:00` or nothing for UTC), as a query parameter or a body field gives one. Checked here, so PostgreSQL only
/// ever receives a value it reads as a `timestamptz` (`text`, always with its zone) and never answers an error that
/// would echo the input.
struct TimestampText: Equatable {
    /// The value with an explicit zone, for a `$n::timestamptz` parameter.
    let text: String
    /// Seconds since the Unix epoch (fractions dropped), to compare with the clock.
    let unixSeconds: Int64

    init?(_ input: String) {
        let bytes = Array(input.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, !range.isEmpty else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func byte(_ index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }
        guard let year = number(0..<4), byte(4) == UInt8(ascii: "-"), let month = number(5..<7), byte(7) == UInt8(ascii: "-"),
              let day = number(8..<10), (1...9999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, offset = 0
        var fraction = ""
        var index = 10
        if bytes.count > 10 {
            guard let separator = byte(10), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(separator),
                  let h = number(11..<13), byte(13) == UInt8(ascii: ":"), let m = number(14..<16), h < 24, m < 60
            else { return nil }
            hour = h
            minute = m
            index = 16
            if byte(index) == UInt8(ascii: ":") {
                guard let s = number(index + 1..<index + 3), s < 60 else { return nil }
                second = s
                index += 3
                if byte(index) == UInt8(ascii: ".") {
                    var end = index + 1
                    while let digit = byte(end), (48...57).contains(digit) { end += 1 }
                    guard (1...6).contains(end - index - 1) else { return nil }
                    fraction = String(decoding: bytes[index..<end], as: UTF8.self)
                    index = end
                }
            }
            if let zone = byte(index) {
                if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
                    index += 1
                } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
                    guard let h = number(index + 1..<index + 3), byte(index + 3) == UInt8(ascii: ":"),
                          let m = number(index + 4..<index + 6), h < 24, m < 60
                    else { return nil }
                    offset = (h * 60 + m) * 60 * (zone == UInt8(ascii: "-") ? -1 : 1)
                    index += 6
                } else {
                    return nil
                }
            }
            guard index == bytes.count else { return nil }
        }
        let seconds = Int64(Self.daysSinceEpoch(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second - offset)
        unixSeconds = seconds
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let sign = offset < 0 ? "-" : "+"
        let zone = "\(sign)\(two(abs(offset) / 3600)):\(two(abs(offset) % 3600 / 60))"
        text = String(decoding: bytes[0..<10], as: UTF8.self) + "T\(two(hour)):\(two(minute)):\(two(second))\(fraction)\(zone)"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
