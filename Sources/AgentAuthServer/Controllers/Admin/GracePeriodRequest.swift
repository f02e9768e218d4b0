/// `{"grace_seconds"}`: how long the credential being replaced (a rolled key, a rotated client
/// secret) keeps working; absent: it stops at once.
struct GracePeriodRequest: Decodable {
    let graceSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case graceSeconds = "grace_seconds"
    }
}
