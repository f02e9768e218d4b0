import Testing

/// The process tests that load the machine (floods of requests or connections) and those that
/// measure time (revocation within 1 s, a rotated key accepted on first sight, CPU of idle
/// polls, slow-client deadlines) run one at a time: a flood beside a one-second bound makes
/// the bound measure the flood. Each suite is nested here, in an extension in its own file.
@Suite("Timed and load process tests", .serialized)
struct TimedProcessTests {}
