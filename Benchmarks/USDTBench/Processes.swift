import Glibc

// Child processes: one-shot commands (timed, output discarded) and co-processes that answer one
// line per command (the C helpers and targets). Every child is registered so the harness kills
// it on exit, error or signal; the C children also die with the harness (PR_SET_PDEATHSIG).

struct BenchError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// CLOCK_MONOTONIC in nanoseconds.
func nowNS() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Nanoseconds `body` takes.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
  let start = nowNS()
  let value = try body()
  return (value, Double(nowNS() - start))
}

/// Pids of live children; read by the exit and signal paths.
nonisolated(unsafe) var liveChildren: Set<pid_t> = []

func killAllChildren() {
  for pid in liveChildren {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
  }
  liveChildren = []
}

/// pipe(2) with both ends close-on-exec, so no child inherits another child's pipes (a stray
/// write end would keep a co-process from ever seeing end of input).
func makePipe(_ fds: inout [CInt]) -> Bool {
  guard pipe(&fds) == 0 else { return false }
  for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
  return true
}

/// Whether `name` is an executable file, or a command found on PATH.
func findExecutable(_ name: String) -> String? {
  if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
  let path = String(cString: getenv("PATH") ?? strdup("/usr/bin:/bin"))
  for dir in path.split(separator: ":") {
    let candidate = "\(dir)/\(name)"
    if access(candidate, X_OK) == 0 { return candidate }
  }
  return nil
}

/// Starts `argv` with the given fds as its stdin/stdout/stderr (-1: /dev/null).
func spawn(_ argv: [String], stdin: CInt = -1, stdout: CInt = -1, stderr: CInt = 2) throws -> pid_t {
  guard let executable = findExecutable(argv[0]) else { throw BenchError("\(argv[0]): not found") }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  for (fd, target) in [(stdin, CInt(0)), (stdout, 1), (stderr, 2)] {
    if fd >= 0 {
      posix_spawn_file_actions_adddup2(&actions, fd, target)
    } else {
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
    }
  }
  var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
  defer { for arg in cArgs { free(arg) } }
  var pid: pid_t = 0
  let rc = posix_spawn(&pid, executable, &actions, nil, &cArgs, environ)
  guard rc == 0 else { throw BenchError("spawn \(argv[0]): \(String(cString: strerror(rc)))") }
  liveChildren.insert(pid)
  return pid
}

/// Waits for `pid`; its exit status (128 + signal when killed).
@discardableResult
func waitFor(_ pid: pid_t) -> Int32 {
  var status: Int32 = 0
  while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  liveChildren.remove(pid)
  if status & 0x7f == 0 { return (status >> 8) & 0xff }
  return 128 + (status & 0x7f)
}

/// Runs `argv` to completion with its output discarded; the wall time in ns.
func runTimed(_ argv: [String]) throws -> Double {
  let start = nowNS()
  let pid = try spawn(argv, stderr: -1)
  let status = waitFor(pid)
  let elapsed = Double(nowNS() - start)
  guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")) exited with \(status)") }
  return elapsed
}

/// Runs `argv` and returns what it printed on stdout.
func runCapturing(_ argv: [String]) throws -> String {
  var fds: [CInt] = [0, 0]
  guard makePipe(&fds) else { throw BenchError("pipe failed") }
  let pid: pid_t
  do {
    pid = try spawn(argv, stdout: fds[1], stderr: -1)
  } catch {
    close(fds[0])
    close(fds[1])
    throw error
  }
  close(fds[1])
  var reader = LineReader(fd: fds[0])
  var output = ""
  while let line = reader.readLine() { output += line + "\n" }
  close(fds[0])
  let status = waitFor(pid)
  guard status == 0 else { throw BenchError("\(argv.joined(separator: " ")) exited with \(status)") }
  return output
}

/// Buffered line reads from an fd.
struct LineReader {
  let fd: CInt
  private var buffer: [UInt8] = []

  init(fd: CInt) { self.fd = fd }

  /// The next line without its newline; nil at end of file.
  mutating func readLine() -> String? {
    while true {
      if let newline = buffer.firstIndex(of: 0x0a) {
        let line = String(decoding: buffer[..<newline], as: UTF8.self)
        buffer.removeSubrange(...newline)
        return line
      }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
      if count < 0 && errno == EINTR { continue }
      if count <= 0 {
        if buffer.isEmpty { return nil }
        defer { buffer = [] }
        return String(decoding: buffer, as: UTF8.self)
      }
      buffer += chunk[..<count]
    }
  }
}

/// A child that reads commands on stdin and answers each with one line on stdout.
final class Coprocess {
  let name: String
  let pid: pid_t
  private let input: CInt
  private var reader: LineReader
  private var finished = false

  /// Starts `argv` and reads lines until one starts with `readyPrefix`, which it returns.
  init(_ argv: [String], readyPrefix: String = "ready") throws {
    var toChild: [CInt] = [0, 0]
    var fromChild: [CInt] = [0, 0]
    guard makePipe(&toChild), makePipe(&fromChild) else {
      throw BenchError("pipe failed")
    }
    name = (argv[0] as String).split(separator: "/").last.map(String.init) ?? argv[0]
    pid = try spawn(argv, stdin: toChild[0], stdout: fromChild[1])
    close(toChild[0])
    close(fromChild[1])
    input = toChild[1]
    reader = LineReader(fd: fromChild[0])
    readyLine = ""
    readyLine = try expectLine(prefix: readyPrefix)
  }

  /// The line the child announced itself with.
  private(set) var readyLine: String

  private func expectLine(prefix: String) throws -> String {
    guard let line = reader.readLine() else { throw BenchError("\(name) exited unexpectedly") }
    guard line.hasPrefix(prefix) else { throw BenchError("\(name): \(line)") }
    return line
  }

  /// Sends `command` and returns the reply line.
  func send(_ command: String) throws -> String {
    let bytes = Array((command + "\n").utf8)
    let written = bytes.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw BenchError("\(name): write failed") }
    guard let line = reader.readLine() else { throw BenchError("\(name) exited on \"\(command)\"") }
    return line
  }

  /// Sends `command`, expects "ok <number>" (the helpers' protocol) and returns the number.
  func ok(_ command: String) throws -> Int64 {
    let reply = try send(command)
    let parts = reply.split(separator: " ")
    guard parts.first == "ok", parts.count == 2, let value = Int64(parts[1]) else {
      throw BenchError("\(name) \(command): \(reply)")
    }
    return value
  }

  /// Closes stdin (the child exits at end of input), then kills it if it has not.
  func finish() {
    guard !finished else { return }
    finished = true
    close(input)
    var status: Int32 = 0
    for _ in 0..<200 {
      if waitpid(pid, &status, WNOHANG) == pid {
        liveChildren.remove(pid)
        close(reader.fd)
        return
      }
      usleep(10_000)
    }
    kill(pid, SIGKILL)
    waitFor(pid)
    close(reader.fd)
  }

  deinit { finish() }
}
