extension StringProtocol {
    /// The first `count` code points: the unit PostgreSQL's length() counts, for stored values that are cut,
    /// never refused.
    func prefix(codePoints count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: unicodeScalars.prefix(count))
        return String(scalars)
    }
}
