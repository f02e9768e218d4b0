import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the log handlers' lines go. One lock per output keeps lines from several threads
/// whole. Standard error gets each line's bytes in one `write(2)`, without the stdio stream's
/// own lock and flush or a copy into `Data`, which cost more than the line itself.
final class LogLineOutput: Sendable {
    private let sink: @Sendable (String) -> Void
    private let lock = Mutex(())

    init(write: @escaping @Sendable (String) -> Void) { sink = write }

    func line(_ text: String) { lock.withLock { _ in sink(text) } }

    static let standardError = LogLineOutput { text in
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
