/// A test's own expectation that did not hold, thrown where `#require` is not at hand.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
