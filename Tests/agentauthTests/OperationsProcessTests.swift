import Testing

/// The process tests of the operations work (configuration, start-up, HTTPS, reverse proxies,
/// observability, backups, audit export, the OpenAPI command), one suite at a time. Each starts
/// servers or many short-lived commands; run all at once at the start of `swift test`, beside every
/// other suite, they held two cores long enough to push unrelated tests past their deadlines.
@Suite("Operations process tests", .serialized)
struct OperationsProcessTests {}
