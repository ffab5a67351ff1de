import ArgumentParser
import FoundationEssentials
import Glibc
import Synchronization
import USDT
import USDTConformanceKit

/// Set by SIGINT/SIGTERM: the adapter stops waiting and reports its hits.
private let stopRequested = Atomic<Int32>(0)

/// `usdt adapter`: this implementation's side of the conformance adapter protocol
/// (Conformance/ADAPTERS.md). Hidden: it is for `usdt conformance`, not for people.
///
/// Attaches the recorder's `record_a` program to one probe, prints `ready`, waits for the end of
/// stdin (or SIGINT), then prints one JSON line per recorded hit and detaches. The recorder is a
/// file, not the tool's embedded one (EmbeddedRecorder.swift), because the corpus also needs a
/// no-cookie build and one built against SwiftUSDT's own usdt.bpf.h.
struct ConformanceAdapter: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "adapter",
    abstract: "Attach to one probe for the conformance harness and report the hits as JSON lines.",
    discussion: "Speaks the adapter protocol of Conformance/ADAPTERS.md; run by `usdt conformance`.",
    shouldDisplay: false)

  @Option(help: "The ELF file that holds the probe (executable or shared library).")
  var binary: String

  @Option(help: "The probe, provider:name.")
  var probe: String

  @Option(help: "Trace only this process; -1 (the default) traces every process.")
  var pid: Int32 = -1

  @Option(help: "cookie (the default: specs found by BPF cookie) or no-cookie (found by IP).")
  var mode: String = "cookie"

  @Option(help: "What bpf_usdt_cookie() returns for this attach, decimal or 0x…; 0 by default.")
  var cookie: String = "0"

  @Option(
    help: """
      Which recorder records the hits: NAME.bpf.o, or NAME-nocookie.bpf.o in no-cookie mode, in \
      $USDT_TARGETS_DIR (else TestTargets/out). recorder (the default) is built against the \
      installed <bpf/usdt.bpf.h>; argforms against SwiftUSDT's own Include/usdt/usdt.bpf.h.
      """)
  var recorder: String = "recorder"

  func run() throws {
    let parts = probe.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) else {
      printError("usdt adapter: --probe must be provider:name, got \(probe)")
      throw ExitCode(1)
    }
    guard let cookieValue = parseInteger(cookie) else {
      printError("usdt adapter: --cookie must be an integer, got \(cookie)")
      throw ExitCode(1)
    }
    let noCookie: Bool
    switch mode {
    case "cookie": noCookie = false
    case "no-cookie": noCookie = true
    default:
      printError("usdt adapter: mode \(mode) is not supported (cookie, no-cookie)")
      throw ExitCode(2)
    }
    let probe = ProbeSelector(binary: binary, provider: String(parts[0]), name: String(parts[1]))

    // Attach.
    let object: BPFObject
    let link: ProbeLink
    do {
      let file = recorder + (noCookie ? "-nocookie" : "") + ".bpf.o"
      let directory = ProcessInfo.processInfo.environment["USDT_TARGETS_DIR"] ?? "TestTargets/out"
      object = try BPFObject(path: directory + "/" + file, options: noCookie ? .init(specLookup: .ipMap) : .init())
      link = try object.program(named: "record_a").attach(
        to: probe, in: pid > 0 ? .process(pid) : .allProcesses, cookie: cookieValue)
    } catch {
      printError("usdt: \(error)")
      throw ExitCode(1)
    }
    let floats = Self.floatArguments(of: probe)

    signal(SIGINT) { _ in stopRequested.store(1, ordering: .relaxed) }
    signal(SIGTERM) { _ in stopRequested.store(1, ordering: .relaxed) }
    print("ready")
    fflush(nil)
    Self.waitForStop()

    // Report, then detach.
    do {
      for hit in try Self.hits(in: object) {
        let args = (0..<Int(max(0, min(hit.argCount, 12)))).map { index -> ObservedValue in
          guard hit.returns[index] == 0 else { return .unavailable }
          switch floats[index] {
          case 4?: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: hit.arguments[index]))))
          case 8?: return .float(Double(bitPattern: hit.arguments[index]))
          default: return .integer(hit.arguments[index])
          }
        }
        let line = ObservedHit(pid: hit.pid, tid: hit.tid, args: args, cookie: hit.cookie)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(line), as: UTF8.self))
      }
    } catch {
      printError("usdt: reading the hits: \(error)")
      link.detach()
      throw ExitCode(1)
    }
    fflush(nil)
    link.detach()
  }

  /// Blocks until stdin ends or SIGINT/SIGTERM arrives.
  static func waitForStop() {
    var buffer = [UInt8](repeating: 0, count: 256)
    while stopRequested.load(ordering: .relaxed) == 0 {
      var entry = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
      let ready = poll(&entry, 1, 100)
      if ready < 0 && errno != EINTR { return }
      if ready > 0 {
        let count = read(STDIN_FILENO, &buffer, buffer.count)
        if count == 0 || (count < 0 && errno != EINTR) { return }
      }
    }
  }

  /// For each argument index, the size of a float argument when every site agrees it is one.
  static func floatArguments(of probe: ProbeSelector) -> [Int: Int] {
    guard let sites = try? ProbeList(path: probe.binary).sites(provider: probe.provider, name: probe.name),
      let first = sites.first?.arguments
    else { return [:] }
    var floats: [Int: Int] = [:]
    for (index, argument) in first.enumerated() where argument.isFloat {
      let agreed = sites.allSatisfy { site in
        guard let arguments = site.arguments, index < arguments.count else { return false }
        return arguments[index].isFloat && arguments[index].size == argument.size
      }
      if agreed { floats[index] = argument.size }
    }
    return floats
  }

  /// One `struct hit` of TestTargets/bpf/recorder.h (argforms.bpf.c's starts the same way).
  struct Hit {
    var pid: Int32
    var tid: Int32
    var argCount: Int32
    var cookie: UInt64
    var returns: [Int64]
    var arguments: [UInt64]
  }

  /// Every recorded hit, in order (the recorder keeps the first 65,536).
  static func hits(in object: BPFObject) throws(USDTError) -> [Hit] {
    let countBytes = try object.map(named: "hit_count").value(at: 0)
    let count = countBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    let map = try object.map(named: "hits")
    var hits: [Hit] = []
    for index in 0..<UInt32(min(count, UInt64(map.maxEntries))) {
      let bytes = try map.value(at: index)
      hits.append(
        bytes.withUnsafeBytes { raw in
          func load<T>(_ offset: Int, _: T.Type) -> T { raw.loadUnaligned(fromByteOffset: offset, as: T.self) }
          return Hit(
            pid: load(4, Int32.self), tid: load(8, Int32.self), argCount: load(12, Int32.self),
            cookie: load(16, UInt64.self), returns: (0..<12).map { load(32 + 8 * $0, Int64.self) },
            arguments: (0..<12).map { load(128 + 8 * $0, UInt64.self) })
        })
    }
    return hits
  }
}
