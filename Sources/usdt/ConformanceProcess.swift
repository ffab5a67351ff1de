import FoundationEssentials
import Glibc

/// A child process started with `posix_spawn`, with its stdin, stdout and stderr chosen by the
/// caller, and waited for with a deadline. The conformance harness runs targets and adapters
/// with it, so it must never hang on a child that misbehaves.
final class SpawnedProcess {
  let pid: pid_t
  /// The raw wait status once reaped.
  private(set) var waitStatus: Int32?

  /// Starts `path` (a path, or a name looked up in `PATH`) with `arguments`.
  ///
  /// `stdin`, `stdout`, `stderr` are fds the child gets as 0, 1, 2. Every fd this process opens
  /// for children is close-on-exec, so the child inherits nothing else of ours.
  init(
    _ path: String, arguments: [String], environment: [String: String], stdin: Int32, stdout: Int32, stderr: Int32
  ) throws(SpawnError) {
    guard let executable = SpawnedProcess.resolve(path) else {
      throw SpawnError(message: "\(path): no such executable")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)

    // The harness ignores SIGPIPE; children get the default back.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    sigaddset(&defaults, SIGINT)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var child: pid_t = 0
    let code = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
    guard code == 0 else {
      throw SpawnError(message: "\(executable): \(String(cString: strerror(code)))")
    }
    pid = child
  }

  /// Whether the child has exited (reaping it if so).
  var hasExited: Bool {
    if waitStatus != nil { return true }
    var status: Int32 = 0
    let result = waitpid(pid, &status, WNOHANG)
    if result == pid || (result < 0 && errno == ECHILD) {
      waitStatus = result == pid ? status : 0
      return true
    }
    return false
  }

  /// Waits until the child exits or `seconds` pass; returns whether it exited.
  @discardableResult
  func wait(seconds: Double) -> Bool {
    let deadline = now() + seconds
    while !hasExited {
      if now() >= deadline { return false }
      usleep(5_000)
    }
    return true
  }

  func signal(_ signal: Int32) {
    if !hasExited { kill(pid, signal) }
  }

  /// SIGKILL and reap; for children that must not outlive a case.
  func killAndReap() {
    guard !hasExited else { return }
    kill(pid, SIGKILL)
    wait(seconds: 5)
  }

  /// The exit code, when the child exited normally.
  var exitCode: Int32? {
    guard let status = waitStatus, status & 0x7f == 0 else { return nil }
    return (status >> 8) & 0xff
  }

  /// The signal that ended the child, if one did.
  var terminatingSignal: Int32? {
    guard let status = waitStatus, status & 0x7f != 0, status & 0x7f != 0x7f else { return nil }
    return status & 0x7f
  }

  deinit { killAndReap() }

  /// A path with a `/` as it is; a bare name looked up in `PATH`.
  static func resolve(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }
}

struct SpawnError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Monotonic seconds.
func now() -> Double {
  var spec = timespec()
  clock_gettime(CLOCK_MONOTONIC, &spec)
  return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// A pipe whose both ends are close-on-exec (the child gets its end through dup2).
func makePipe() throws(SpawnError) -> (read: Int32, write: Int32) {
  var fds: [Int32] = [0, 0]
  guard pipe(&fds) == 0 else { throw SpawnError(message: "pipe: \(String(cString: strerror(errno)))") }
  // The harness is single-threaded, so no spawn can slip in before the flags are set.
  _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
  _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
  return (fds[0], fds[1])
}

/// Reads lines from an fd with a deadline (the target's stdout).
final class LineReader {
  let fd: Int32
  private var buffer: [UInt8] = []
  private(set) var closed = false

  init(fd: Int32) { self.fd = fd }

  /// The next line, or nil at end of input or when `seconds` pass first.
  func readLine(seconds: Double) -> String? {
    let deadline = now() + seconds
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      if closed { return nil }
      let remaining = deadline - now()
      if remaining <= 0 { return nil }
      var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&entry, 1, Int32(min(remaining, 1) * 1000) + 1)
      if ready < 0 && errno != EINTR { closed = true }
      guard ready > 0 else { continue }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let count = read(fd, &chunk, chunk.count)
      if count <= 0 {
        if count < 0 && errno == EINTR { continue }
        closed = true
      } else {
        buffer.append(contentsOf: chunk[..<count])
      }
    }
  }
}

/// A temporary file, removed when this value goes away; children write their output into it.
final class TemporaryFile {
  let path: String
  let fd: Int32

  init(prefix: String) throws(SpawnError) {
    var template = Array("/tmp/usdt-conformance-\(prefix)-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw SpawnError(message: "mkstemp: \(String(cString: strerror(errno)))") }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    self.fd = fd
    path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Everything written so far.
  func contents() -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    return String(decoding: data, as: UTF8.self)
  }

  deinit {
    close(fd)
    unlink(path)
  }
}
