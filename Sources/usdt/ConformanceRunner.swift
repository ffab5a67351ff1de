import FoundationEssentials
import Glibc
import USDTConformanceKit

/// An implementation under test: a name and the adapter command that speaks the protocol of
/// Conformance/ADAPTERS.md.
struct AdapterCommand {
  var name: String
  var description: String
  var command: [String]
  /// Required files that are missing (see adapters.json `requires`).
  var missing: [String] = []
}

/// Runs one corpus case against one adapter, step by step:
///  1. start the target and read its `ready pid=… k=v…` line;
///  2. start the adapter with `--binary --probe --pid --mode --cookie` and wait for `ready`;
///  3. send the case's commands to the target, one reply line each;
///  4. stop the adapter (stdin EOF, then SIGINT, then SIGKILL) and read its hit lines;
///  5. end the target (stdin EOF) and grade the hits.
struct CaseRunner {
  /// The directory the corpus' relative paths start from (TestTargets/out).
  var targetsDirectory: String
  /// Environment for the children (the harness's own plus `USDT_TARGETS_DIR`).
  var environment: [String: String]
  /// Seconds an adapter may take to attach, and to stop.
  var timeout: Double

  /// Seconds a target may take for its ready line and for each reply.
  let targetTimeout = 10.0

  func run(_ item: Case, with adapter: AdapterCommand) -> (AdapterOutcome, TargetRun?) {
    let binary = targetsDirectory + "/" + item.target.binary
    let probeFile = resolvedPath(targetsDirectory + "/" + item.probeFile)
    guard access(binary, X_OK) == 0 else {
      return (.error("target \(binary) is missing: run `make targets`"), nil)
    }
    guard access(probeFile, R_OK) == 0 else { return (.error("probe file \(probeFile) is missing"), nil) }

    // 1. The target.
    let target: Target
    do {
      target = try Target(binary: binary, environment: environment)
    } catch {
      return (.error("cannot start target \(item.target.binary): \(error)"), nil)
    }
    defer { target.finish() }
    guard let readyLine = target.output.readLine(seconds: targetTimeout), readyLine.hasPrefix("ready") else {
      return (.error("target \(item.target.binary) printed no ready line"), nil)
    }
    let ready = Self.keyValues(readyLine)
    guard let pid = ready["pid"].flatMap({ Int32($0) }) else {
      return (.error("target ready line has no pid: \(readyLine)"), nil)
    }
    var run = TargetRun(ready: ready, pid: pid, pids: [])

    // 2. The adapter.
    // One `--name=value` word each, so that `-1` is never taken for an option.
    let arguments = [
      "--binary=\(probeFile)", "--probe=\(item.probe.qualifiedName)",
      "--pid=\(item.attach.pid == .child ? pid : -1)",
      "--mode=\(item.attach.mode.rawValue)", "--cookie=\(item.attach.cookie)",
    ]
    let attached: AttachedAdapter
    switch AttachedAdapter.start(adapter, arguments: arguments, environment: environment, timeout: timeout) {
    case .failure(let failure): return (failure.outcome, run)
    case .success(let value): attached = value
    }

    // 3. The commands.
    for command in item.target.commands {
      target.send(command)
      guard let reply = target.output.readLine(seconds: targetTimeout) else {
        attached.abandon()
        return (.error("target gave no reply to «\(command)» within \(Int(targetTimeout)) s"), run)
      }
      if reply.hasPrefix("error") {
        attached.abandon()
        return (.error("target answered «\(command)» with «\(reply)»"), run)
      }
      // `child pid=N` (pidfilter): a process of the target whose hits count in `all` mode.
      if let child = Self.keyValues(reply)["pid"].flatMap({ Int32($0) }) { run.pids.insert(child) }
    }

    // 4. Stop the adapter and collect.
    return (attached.stop(timeout: timeout), run)
  }

  /// `ready pid=12 bla=0x…` → ["pid": "12", "bla": "0x…"].
  static func keyValues(_ line: String) -> [String: String] {
    var values: [String: String] = [:]
    for field in line.split(separator: " ") {
      let pair = field.split(separator: "=", maxSplits: 1)
      if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
    }
    return values
  }

  /// A target process and its stdin/stdout pipes.
  final class Target {
    let process: SpawnedProcess
    let output: LineReader
    private var input: Int32

    init(binary: String, environment: [String: String]) throws(SpawnError) {
      let stdinPipe = try makePipe()
      let stdoutPipe = try makePipe()
      let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
      defer {
        close(stdinPipe.read)
        close(stdoutPipe.write)
        close(null)
      }
      do throws(SpawnError) {
        process = try SpawnedProcess(
          binary, arguments: [], environment: environment, stdin: stdinPipe.read, stdout: stdoutPipe.write,
          stderr: null)
      } catch {
        close(stdinPipe.write)
        close(stdoutPipe.read)
        throw error
      }
      input = stdinPipe.write
      output = LineReader(fd: stdoutPipe.read)
    }

    func send(_ command: String) {
      let line = command + "\n"
      _ = line.withCString { write(input, $0, strlen($0)) }
    }

    /// End of input: the target exits 0; killed if it does not within a few seconds.
    func finish() {
      if input >= 0 {
        close(input)
        input = -1
      }
      if !process.wait(seconds: 5) { process.killAndReap() }
    }

    deinit {
      finish()
      close(output.fd)
    }
  }
}

/// An adapter that printed `ready`: attached, waiting for the end of its stdin.
struct AttachedAdapter {
  let process: SpawnedProcess
  let stdinWrite: Int32
  let stdout: TemporaryFile
  let stderr: TemporaryFile

  /// Starts the adapter and waits for its `ready` line, or says why there is none.
  static func start(
    _ adapter: AdapterCommand, arguments: [String], environment: [String: String], timeout: Double
  ) -> Result<AttachedAdapter, AdapterOutcomeError> {
    let stdinPipe: (read: Int32, write: Int32)
    let stdout: TemporaryFile
    let stderr: TemporaryFile
    let process: SpawnedProcess
    do throws(SpawnError) {
      stdinPipe = try makePipe()
      stdout = try TemporaryFile(prefix: "out")
      stderr = try TemporaryFile(prefix: "err")
      defer { close(stdinPipe.read) }
      do throws(SpawnError) {
        process = try SpawnedProcess(
          adapter.command[0], arguments: Array(adapter.command.dropFirst()) + arguments, environment: environment,
          stdin: stdinPipe.read, stdout: stdout.fd, stderr: stderr.fd)
      } catch {
        close(stdinPipe.write)
        throw error
      }
    } catch {
      return .failure(.init(.error("cannot run the \(adapter.name) adapter: \(error)")))
    }

    let attached = AttachedAdapter(process: process, stdinWrite: stdinPipe.write, stdout: stdout, stderr: stderr)
    let deadline = now() + timeout
    while true {
      if attached.readyLineSeen { return .success(attached) }
      if process.hasExited {
        // It may have printed ready and then exited: that is a failure after ready.
        if attached.readyLineSeen { return .success(attached) }
        close(stdinPipe.write)
        let text = attached.errorText
        if let signal = process.terminatingSignal {
          return .failure(.init(.crashed("killed by signal \(signal) before ready" + (text.isEmpty ? "" : ": \(text)"))))
        }
        switch process.exitCode ?? 1 {
        case 0: return .failure(.init(.crashed("exited 0 without printing ready" + (text.isEmpty ? "" : ": \(text)"))))
        case 2: return .failure(.init(.unsupported(text.isEmpty ? "unsupported (exit 2)" : text)))
        case let code: return .failure(.init(.refused(text.isEmpty ? "refused (exit \(code))" : text)))
        }
      }
      if now() >= deadline {
        attached.abandon()
        return .failure(.init(.timeout("no ready line within \(Int(timeout)) s" + (attached.errorText.isEmpty ? "" : ": \(attached.errorText)"))))
      }
      usleep(10_000)
    }
  }

  private var readyLineSeen: Bool {
    stdout.contents().split(separator: "\n", omittingEmptySubsequences: false).dropLast().contains { $0 == "ready" }
  }

  /// The adapter's stderr, trimmed to its last lines.
  var errorText: String {
    let lines = stderr.contents().split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    var text = lines.suffix(12).joined(separator: "\n")
    if text.count > 2000 { text = "…" + text.suffix(2000) }
    return text
  }

  /// Ends the adapter without collecting (the case already failed elsewhere).
  func abandon() {
    close(stdinWrite)
    process.signal(SIGINT)
    if !process.wait(seconds: 5) { process.killAndReap() }
  }

  /// Stops the adapter (stdin EOF; SIGINT if it lingers) and reads its hits.
  func stop(timeout: Double) -> AdapterOutcome {
    close(stdinWrite)
    if !process.wait(seconds: timeout) {
      process.signal(SIGINT)
      if !process.wait(seconds: 5) {
        process.killAndReap()
        return .timeout("did not exit within \(Int(timeout)) s of the end of its input, nor after SIGINT")
      }
    }
    if let signal = process.terminatingSignal {
      return .crashed("killed by signal \(signal) after ready" + (errorText.isEmpty ? "" : ": \(errorText)"))
    }
    if let code = process.exitCode, code != 0 {
      return .crashed("exit status \(code) after ready" + (errorText.isEmpty ? "" : ": \(errorText)"))
    }
    var hits: [ObservedHit] = []
    let lines = stdout.contents().split(separator: "\n").map { $0.trimmingSpaces }
    guard let readyIndex = lines.firstIndex(of: "ready") else { return .crashed("lost its ready line") }
    let decoder = JSONDecoder()
    for line in lines[(readyIndex + 1)...] where !line.isEmpty {
      do {
        hits.append(try decoder.decode(ObservedHit.self, from: Data(line.utf8)))
      } catch {
        return .crashed("unreadable output line «\(line.prefix(200))»: \(error)")
      }
    }
    return .hits(hits)
  }
}

/// An ``AdapterOutcome`` carried as the failure of a `Result`.
struct AdapterOutcomeError: Error {
  var outcome: AdapterOutcome
  init(_ outcome: AdapterOutcome) { self.outcome = outcome }
}

extension Substring {
  /// Without leading and trailing spaces, tabs and carriage returns.
  var trimmingSpaces: String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}

/// The canonical path (symlinks resolved), or the path itself when it does not exist.
func resolvedPath(_ path: String) -> String {
  guard let resolved = realpath(path, nil) else { return path }
  defer { free(resolved) }
  return String(cString: resolved)
}
