extension [UInt8] {
    /// Appends a string's UTF-8 bytes (the worker builds its response head and request lines as bytes).
    mutating func append(_ text: String) { append(contentsOf: text.utf8) }

    /// Appends a non-negative number in decimal, without making a string of it.
    mutating func appendDecimal(_ number: Int) {
        precondition(number >= 0)
        if number >= 10 { appendDecimal(number / 10) }
        append(UInt8(ascii: "0") + UInt8(number % 10))
    }
}
