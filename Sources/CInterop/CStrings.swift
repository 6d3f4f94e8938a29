/// Calls `body` with C strings that live exactly as long as the call (one buffer holds them all); a nil entry
/// stays a null pointer, so `strings + [nil]` makes a NULL-terminated array.
public func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var storage: [UInt8] = []
    storage.reserveCapacity(strings.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 1 })
    let offsets = strings.map { string -> Int? in
        guard let string else { return nil }
        defer {
            storage.append(contentsOf: string.utf8)
            storage.append(0)
        }
        return storage.count
    }
    return storage.withUnsafeBufferPointer { buffer in
        // No storage means every entry is nil.
        guard let start = buffer.baseAddress else { return body(offsets.map { _ in nil }) }
        let base = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
        return body(offsets.map { $0.map { base + $0 } })
    }
}
