import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock on `DATABASE.lock` for the life of `serve`: a second server on the
/// same SQLite file is refused in one line, while the admin commands (which do not take it)
/// keep working beside the running server. The kernel drops the lock when the process ends,
/// however it ends, so a crash leaves nothing to clean up.
final class ServerLock {
    let path: String
    private let descriptor: Int32

    init(database: String) throws {
        path = database + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CLIError("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CLIError(
                "another agentauth serve is already running on \(database) (it holds \(path)); stop it first, or use PostgreSQL to run several servers"
            )
        }
    }

    deinit {
        close(descriptor)
    }
}
