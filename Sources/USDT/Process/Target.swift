import Glibc

/// Which processes an attach covers.
public enum Target: Sendable, Hashable {
  /// Every process that maps the binary, now or later (libbpf's pid −1).
  case allProcesses
  /// Only the calling process (libbpf's pid 0).
  case currentProcess
  /// Only the process with this pid (its threads included).
  case process(pid_t)

  /// The pid to filter on, or `nil` for every process.
  ///
  /// - Throws: `.invalidArgument` for a pid that is not positive.
  func resolvedPID() throws(USDTError) -> pid_t? {
    switch self {
    case .allProcesses: return nil
    case .currentProcess: return Syscalls.currentProcessID
    case .process(let pid):
      guard pid > 0 else {
        throw USDTError(
          .invalidArgument, "pid \(pid) is not a process",
          hint: "Use Target.allProcesses or Target.currentProcess instead of -1 or 0")
      }
      return pid
    }
  }
}
