import ArgumentParser
import FoundationEssentials
import Glibc
import Synchronization
import USDT

/// `usdt trace PATH:provider:name`: attach the built-in recorder and print every hit.
struct Trace: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print every hit of a USDT probe with its decoded arguments.",
    discussion: """
      Attaches a BPF recorder built into this tool to every site of the probe (semaphores are \
      counted by the kernel, so guarded probes fire), polls what it records every 50 ms and \
      prints one line per hit: pid, tid and each argument, as an integer of its size and sign, \
      as a float or double for `f` arguments, or as unavailable when the BPF side cannot read \
      it. Stops on Ctrl-C, SIGTERM, --count or --timeout, and always detaches. Needs root (or \
      CAP_BPF and CAP_PERFMON).

      A PATH without '/' is a file name: with -p, a file mapped into that process \
      (libc.so.6, or libc.so for libc.so.6); without, a program found in PATH.
      """)

  static let recorderName = "usdt_trace_recorder"

  @Argument(help: ArgumentHelp("The probe (the path may not contain ':').", valueName: "PATH:provider:name"))
  var probe: ProbeSelector

  @Option(
    name: [.customShort("p"), .customLong("pid")],
    help: "Trace only this process. Default: every process that runs the file.")
  var pid: Int32?

  @Option(help: ArgumentHelp("Stop after printing this many hits. Default: no limit.", valueName: "n"))
  var count: Int?

  @Option(help: ArgumentHelp("Stop after this many seconds (fractions allowed). Default: no limit.", valueName: "seconds"))
  var timeout: Double?

  @Flag(help: "Print one JSON object per hit instead of text.")
  var json = false

  func validate() throws {
    if let pid, pid <= 0 { throw ValidationError("-p needs a process id greater than 0, not \(pid)") }
    if let count, count <= 0 { throw ValidationError("--count must be at least 1, not \(count)") }
    if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
  }

  func run() throws {
    do {
      try trace()
    } catch {
      printError("usdt: \(error)")
      throw ExitCode.failure
    }
  }

  private func trace() throws(USDTError) {
    var selector = probe
    // Fails early and clearly (`process N does not exist`) instead of at the attach's syscall.
    if let pid { _ = try ProcessMaps(pid: pid) }
    selector.binary = try BinaryResolver.resolve(probe.binary, pid: pid)
    // A missing file or probe is reported before anything needs privilege.
    let sites = try ProbeList(path: selector.binary).sites(provider: selector.provider, name: selector.name)
    guard !sites.isEmpty else {
      throw USDTError(
        .probeNotFound, "no such probe", errno: .noSuchFileOrDirectory, binary: selector.binary,
        probe: selector.qualifiedName, hint: "List the probes of the file with `usdt list \(selector.binary)`")
    }
    let object = try BPFObject(bytes: EmbeddedRecorder.bytes, name: Self.recorderName)
    let recorder = try HitReader(object: object)

    StopSignal.install()
    let link = try object.program(named: "trace_probe").attach(
      to: selector, in: pid.map { .process($0) } ?? .allProcesses)
    defer { link.detach() }
    let decoder = HitDecoder(link: link, sites: sites)

    let scope = pid.map { ", pid \($0)" } ?? ", every process"
    printError(
      "usdt: tracing \(selector.qualifiedName) in \(selector.binary) (\(link.siteCount) site\(link.siteCount == 1 ? "" : "s")\(scope)); Ctrl-C to stop"
    )
    for problem in link.unavailableArguments {
      printError("usdt: argument \(problem.argument ?? 0) will read as unavailable: \(problem.message)")
    }

    let printer = HitPrinter(json: json, probe: selector.qualifiedName)
    // Clamped so that an absurd --timeout cannot overflow the clock.
    let deadline = timeout.map { ContinuousClock.now + .milliseconds(Int64(min($0, 1e9) * 1000)) }
    var printed = 0
    func emit(_ hits: [RecordedHit]) -> Bool {
      for hit in hits {
        if let count, printed >= count { return false }
        printer.print(decoder.decode(hit))
        printed += 1
      }
      fflush(nil)  // stdout, which is fully buffered in a pipe
      return count.map { printed < $0 } ?? true
    }

    var running = true
    while running {
      usleep(50_000)  // a signal cuts it short
      running = try emit(recorder.poll())
      if StopSignal.received != 0 { running = false }
      if let deadline, ContinuousClock.now >= deadline { running = false }
      if let pid, kill(pid, 0) != 0 && errno == ESRCH {
        printError("usdt: process \(pid) has exited")
        running = false
      }
    }
    // Nothing new starts once detached; what is in flight finishes within microseconds.
    link.detach()
    usleep(10_000)
    if count.map({ printed < $0 }) ?? true { _ = try emit(recorder.drain()) }
    if recorder.lost > 0 {
      printError("usdt: \(recorder.lost) hits were lost: the recorder holds \(HitReader.capacity) between polls")
    }
  }
}

// MARK: - Stopping

/// SIGINT and SIGTERM set a flag that the polling loop reads; the default action (exit without
/// detaching) would leave nothing behind either, since closing the links removes the uprobes,
/// but it would lose the hits not yet printed.
enum StopSignal {
  private static let signal = Atomic<Int32>(0)

  /// The signal that asked to stop, or 0.
  static var received: Int32 { signal.load(ordering: .relaxed) }

  static func install() {
    for number in [SIGINT, SIGTERM] {
      Glibc.signal(number) { number in StopSignal.signal.store(number, ordering: .relaxed) }
    }
  }
}

// MARK: - Finding the file

/// Turns the PATH of `PATH:provider:name` into a file the kernel can attach to.
enum BinaryResolver {
  /// A path with `/` as given; a bare name mapped into `pid`, or found in `PATH`.
  ///
  /// - Throws: `.noSuchProcess`, or `.invalidArgument` when `pid` maps no such file or several.
  static func resolve(_ path: String, pid: Int32?) throws(USDTError) -> String {
    if path.contains("/") { return path }
    guard let pid else { return searchPath(path) }
    let maps = try ProcessMaps(pid: pid)
    var candidates: [String] = []
    for mapping in maps.mappings where mapping.path.hasPrefix("/") && !candidates.contains(mapping.path) {
      let name = mapping.path.split(separator: "/").last.map(String.init) ?? ""
      if name == path || name.hasPrefix(path + ".") { candidates.append(mapping.path) }
    }
    // An exact name wins over a versioned one (libfoo.so over libfoo.so.1).
    let exact = candidates.filter { $0.hasSuffix("/" + path) }
    let chosen = exact.count == 1 ? exact : candidates
    guard chosen.count == 1, let found = chosen.first else {
      throw USDTError(
        .invalidArgument,
        chosen.isEmpty
          ? "process \(pid) maps no file named \(path)"
          : "process \(pid) maps several files named \(path): \(chosen.joined(separator: ", "))",
        hint: chosen.isEmpty
          ? "See /proc/\(pid)/maps for the files it has loaded, or give a path" : "Give the full path")
    }
    return sharesRoot(with: pid) ? found : "/proc/\(pid)/root\(found)"
  }

  /// Whether `pid` sees the same `/` as we do; otherwise (a container) its files are reached
  /// through `/proc/PID/root`.
  private static func sharesRoot(with pid: Int32) -> Bool {
    var ours = stat()
    var theirs = stat()
    guard stat("/", &ours) == 0, stat("/proc/\(pid)/root", &theirs) == 0 else { return true }
    return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino
  }

  /// A program name: the file in the current directory, else the first executable in `PATH`;
  /// unchanged when neither exists, so the attach reports the missing file.
  private static func searchPath(_ name: String) -> String {
    if access(name, F_OK) == 0 { return name }
    let directories = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    for directory in directories.split(separator: ":") where !directory.isEmpty {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return name
  }
}
