/// A key just created: the stored record plus the plaintext, which exists only here
/// and is shown to the caller exactly once.
public struct IssuedAPIKey: Sendable {
    public var record: APIKey
    public var plaintext: String

    public init(record: APIKey, plaintext: String) {
        self.record = record
        self.plaintext = plaintext
    }
}
