import Glibc
import USDT

// Attach and detach of ONE probe (bench:site, no arguments, 1 spec) at N sites, every process,
// with nothing running: the kernel selftest bench_usdt at several sizes. The impls run round by
// round, interleaved (and in alternating order), so the ratios come from the same minutes:
//
//   swift-multi  ours, uprobe_multi backend: ELF notes → spec → one BPF_LINK_CREATE; one close
//   swift-perf   ours, per-site perf events: one perf_event_open + one bpf_link per site
//   libbpf       Debian's libbpf 1.1.2 bpf_program__attach_usdt (helpers/libbpf_attach.c)
//   raw-multi    the floor: only the BPF_LINK_CREATE, offsets precomputed (helpers/raw_multi.c)
//
// Every impl's first round also runs the target once and checks the program counted N hits.
// Each timed attach and detach starts after --settle-ms of idle time (see settle()).
// A diagnostic row, "swift: notes only", times the library's first attach step alone (reading the
// notes and picking the probe's sites), to split swift-multi's attach into user and kernel work.

/// One way to attach the counting program of count.bpf.o.
protocol AttachImpl: AnyObject {
  var name: String { get }
  /// Prepares an attach to `binary` (untimed); `offsets` are the sites' file offsets.
  func prepare(binary: String, offsets: [UInt64]) throws
  /// Attaches to every site of bench:site in `binary`; ns.
  func attach(binary: String) throws -> Double
  /// Detaches; ns.
  func detach() throws -> Double
  /// Hits the program has counted so far.
  func count() throws -> UInt64
}

/// Ours, through the library.
final class SwiftAttach: AttachImpl {
  let name: String
  let object: BPFObject
  let program: BPFProgram
  private var link: ProbeLink?

  init(name: String, objectPath: String, backend: AttachBackend) throws {
    self.name = name
    object = try BPFObject(path: objectPath, options: .init(backend: backend))
    guard object.backend == backend else {
      throw BenchError("\(name): object loaded with backend \(object.backend), not \(backend)")
    }
    program = try object.program(named: "count_hits")
  }

  func prepare(binary: String, offsets: [UInt64]) throws {}

  func attach(binary: String) throws -> Double {
    try attach(ProbeSelector(binary: binary, provider: "bench", name: "site"))
  }

  func attach(_ probe: ProbeSelector) throws -> Double {
    let program = program
    let (link, ns) = try timed { try program.attach(to: probe, in: .allProcesses) }
    self.link = link
    return ns
  }

  func detach() throws -> Double {
    guard let link else { return 0 }
    let (_, ns) = timed { link.detach() }
    self.link = nil
    return ns
  }

  func count() throws -> UInt64 {
    let bytes = try object.map(named: "counts").value(at: 0)
    return bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) }
  }
}

/// A C helper speaking the "ok <n>" protocol (helpers/helper.h).
final class HelperAttach: AttachImpl {
  let name: String
  let process: Coprocess
  private let usesOffsets: Bool
  let offsetsFile: String

  init(name: String, argv: [String], usesOffsets: Bool, scratchDir: String) throws {
    self.name = name
    self.usesOffsets = usesOffsets
    offsetsFile = "\(scratchDir)/\(name)-offsets.txt"
    process = try Coprocess(argv)
  }

  func prepare(binary: String, offsets: [UInt64]) throws {
    guard usesOffsets else { return }
    try writeFile(offsetsFile, offsets.map { "\($0)\n" }.joined())
    let loaded = try process.ok("load \(binary) \(offsetsFile)")
    guard loaded == offsets.count else { throw BenchError("\(name) loaded \(loaded) offsets, not \(offsets.count)") }
  }

  func attach(binary: String) throws -> Double {
    Double(try process.ok(usesOffsets ? "attach" : "attach \(binary) bench site"))
  }

  func detach() throws -> Double { Double(try process.ok("detach")) }
  func count() throws -> UInt64 { UInt64(try process.ok("count")) }
}

struct AttachBench {
  let config: Config
  let results: Results

  func run() throws {
    results.print("== attach / detach: one probe (bench:site), N sites, every process ==")
    let countObject = config.path("count.bpf.o")
    let multi = try SwiftAttach(name: "swift-multi", objectPath: countObject, backend: .uprobeMulti)
    let perf = try SwiftAttach(name: "swift-perf", objectPath: countObject, backend: .perfEvent)
    let raw = try HelperAttach(
      name: "raw-multi", argv: [config.path("raw_multi"), countObject, "count_hits"], usesOffsets: true,
      scratchDir: config.outDir)
    defer {
      raw.process.finish()
      unlink(raw.offsetsFile)
    }
    let libbpf = try HelperAttach(
      name: "libbpf", argv: [config.path("libbpf_attach"), countObject, "count_hits"], usesOffsets: false,
      scratchDir: config.outDir)
    defer { libbpf.process.finish() }

    // Warm-up of the lazy parts (kernel feature probes, the object's BTF, libbpf's USDT manager)
    // on the 1-site probe of the hit target: cheap even for the perf-event impls.
    let warmProbe = ProbeSelector(binary: config.path("hit"), provider: "bench", name: "hit_nop")
    for impl in [multi, perf] {
      _ = try impl.attach(warmProbe)
      _ = try impl.detach()
    }
    _ = try libbpf.process.ok("attach \(warmProbe.binary) bench hit_nop")
    _ = try libbpf.process.ok("detach")

    var sizes = config.attachSizes
    if config.perf1000 && !sizes.contains(1_000) { sizes.append(1_000) }
    for n in sizes.sorted() {
      let binary = config.path("sites-\(n)")
      let sites = try ProbeList(path: binary).sites(provider: "bench", name: "site")
      guard sites.count == n else { throw BenchError("\(binary) has \(sites.count) sites of bench:site, not \(n)") }
      let offsets = sites.map { $0.fileOffset ?? 0 }

      var plan = [
        Planned(impl: multi, runs: config.attachRuns, warmups: 1),
        Planned(impl: raw, runs: config.attachRuns, warmups: 1),
      ]
      // The per-site impls: no warm-up, and a time budget (their detach is ~0.1 s per site, more
      // when the machine is busy): no new run once they have 2 and have used it up.
      if n == 100 || (n == 1_000 && config.perf1000) {
        let runs = n == 100 ? config.perfRuns : config.perf1000Runs
        plan += ([perf, libbpf] as [AttachImpl]).map {
          Planned(impl: $0, runs: runs, warmups: 0, budgetNS: Double(config.perfBudgetS) * 1e9)
        }
      }
      try measure(n: n, binary: binary, offsets: offsets, plan: plan)
      try measureNotes(n: n, binary: binary)
    }
    report(sizes: sizes.sorted())
  }

  /// Runs the plan round by round and records attach, detach and their sum per impl.
  /// One impl's share of the rounds at one N.
  struct Planned {
    var impl: AttachImpl
    var runs: Int
    var warmups: Int
    /// Time after which no new run starts once 2 are recorded.
    var budgetNS: Double = .infinity
  }

  private func measure(n: Int, binary: String, offsets: [UInt64], plan: [Planned]) throws {
    var attach: [String: [Double]] = [:]
    var detach: [String: [Double]] = [:]
    var failed: [String: String] = [:]
    var spent: [String: Double] = [:]
    for planned in plan {
      do {
        try planned.impl.prepare(binary: binary, offsets: offsets)
      } catch {
        failed[planned.impl.name] = "\(error)"
      }
    }
    let rounds = plan.map { $0.runs + $0.warmups }.max() ?? 0
    let start = nowNS()
    for round in 0..<rounds {
      for planned in round % 2 == 0 ? plan : plan.reversed() {
        let (impl, warmups) = (planned.impl, planned.warmups)
        guard round < planned.runs + warmups, failed[impl.name] == nil else { continue }
        if (attach[impl.name]?.count ?? 0) >= 2 && spent[impl.name, default: 0] > planned.budgetNS { continue }
        let runStart = nowNS()
        defer { spent[impl.name, default: 0] += Double(nowNS() - runStart) }
        do {
          settle()
          let attachNS = try impl.attach(binary: binary)
          var verifyError: Error?
          if round == 0 {
            do { try verify(impl, binary: binary, n: n) } catch { verifyError = error }
          }
          settle()
          let detachNS = try impl.detach()
          if let verifyError { throw verifyError }
          if round >= warmups {
            attach[impl.name, default: []].append(attachNS)
            detach[impl.name, default: []].append(detachNS)
          }
        } catch {
          _ = try? impl.detach()
          failed[impl.name] = "\(error)"
        }
      }
    }
    let elapsed = Double(nowNS() - start) / 1e9
    results.print(
      "  N = \(n): \(plan.map { "\($0.impl.name) \(attach[$0.impl.name]?.count ?? 0) runs" }.joined(separator: ", ")) (\(format3(elapsed)) s)")
    for impl in plan.map(\.impl) {
      if let reason = failed[impl.name] { results.print("    \(impl.name) FAILED: \(reason)") }
      guard let a = attach[impl.name], let d = detach[impl.name], !a.isEmpty else { continue }
      let total = zip(a, d).map { $0 + $1 }
      for (name, samples) in [("attach", a), ("detach", d), ("attach_detach", total)] {
        results.add(
          Measurement(
            name: name, impl: impl.name, n: n, samples: samples,
            extra: [("per_site_ns", .number(medianOf(samples) / Double(n))), ("verified_hits", .bool(true))]))
      }
    }
  }

  /// Idles before a timed attach or detach, so none runs in the wake of the previous one.
  /// Registering or removing a uprobe takes the kernel's dup_mmap_sem for writing, whose
  /// rcu_sync waits for an RCU grace period (~10 ms here) unless another writer left it within
  /// the last grace period or two; back to back, whether an attach paid that wait depended on
  /// how the previous operation ended. (Other processes attaching uprobes still make it random:
  /// at 100 and 1,000 sites that wait is most of an attach, hence medians over several runs.)
  private func settle() {
    usleep(useconds_t(config.settleMS * 1000))
  }

  /// A diagnostic for swift-multi's attach: only reading the file's notes and picking the probe's
  /// sites (ProbeList + sites(provider:name:)), the library's first step, with no kernel work.
  private func measureNotes(n: Int, binary: String) throws {
    var samples: [Double] = []
    for round in 0...config.attachRuns {
      let (sites, ns) = try timed { try ProbeList(path: binary).sites(provider: "bench", name: "site") }
      guard sites.count == n else { throw BenchError("\(binary): \(sites.count) sites") }
      if round > 0 { samples.append(ns) }
    }
    results.add(
      Measurement(
        name: "notes", impl: "swift", n: n, samples: samples,
        extra: [("per_site_ns", .number(medianOf(samples) / Double(n))), ("what", .string("ProbeList(path:).sites(provider:name:) only"))]))
  }

  /// Runs the target once (it fires every site once) and checks the count went up by n.
  private func verify(_ impl: AttachImpl, binary: String, n: Int) throws {
    let before = try impl.count()
    _ = try runTimed([binary])
    let after = try impl.count()
    guard after - before == UInt64(n) else {
      throw BenchError("\(impl.name) counted \(after - before) hits of \(n) sites")
    }
  }

  private func report(sizes: [Int]) {
    let impls = ["raw-multi", "swift-multi", "swift-perf", "libbpf"]
    var table = Table("N", "impl", "runs", "attach", "/site", "detach", "/site", "attach+detach", "/site")
    for n in sizes {
      if let notes = results.find("notes", "swift", n) {
        table.add(
          "\(n)", "(swift: notes only)", "\(notes.runs)", duration(notes.median), duration(notes.median / Double(n)),
          "", "", "", "")
      }
      for impl in impls {
        guard let a = results.find("attach", impl, n), let d = results.find("detach", impl, n),
          let t = results.find("attach_detach", impl, n)
        else { continue }
        let per = { (m: Measurement) in duration(m.median / Double(n)) }
        table.add(
          "\(n)", impl, "\(a.runs)", duration(a.median), per(a), duration(d.median), per(d),
          duration(t.median), per(t))
      }
    }
    results.print(table)
    results.print()

    var ratios = Table("ratio (medians)", "", leftColumns: 1)
    ratios.header = ["ratio (medians)"] + sizes.map { "N=\($0)" }
    func row(_ label: String, _ name: String, _ top: String, _ bottom: String) {
      ratios.add([label] + sizes.map { ratio(results.median(name, top, $0), results.median(name, bottom, $0)) })
    }
    row("swift-multi / raw-multi  attach", "attach", "swift-multi", "raw-multi")
    row("swift-multi / raw-multi  detach", "detach", "swift-multi", "raw-multi")
    row("swift-multi / raw-multi  attach+detach", "attach_detach", "swift-multi", "raw-multi")
    ratios.add(
      ["(swift-multi − notes only) / raw-multi  attach"]
        + sizes.map { n in
          ratio(
            results.median("attach", "swift-multi", n).map { $0 - (results.median("notes", "swift", n) ?? 0) },
            results.median("attach", "raw-multi", n))
        })
    row("libbpf / swift-multi     attach+detach", "attach_detach", "libbpf", "swift-multi")
    row("libbpf / swift-multi     attach", "attach", "libbpf", "swift-multi")
    row("swift-perf / swift-multi attach+detach", "attach_detach", "swift-perf", "swift-multi")
    row("libbpf / swift-perf      attach+detach", "attach_detach", "libbpf", "swift-perf")
    results.print(ratios)
    results.print()

    for name in ["attach", "detach", "attach_detach"] {
      let value = ratioValue(
        results.median(name, "swift-multi", 10_000), results.median(name, "raw-multi", 10_000))
      results.goal(
        "swift-multi / raw-multi \(name.replacingOccurrences("_", "+")) at 10,000 sites ≤ 1.3×: \(value.map { format3($0) + "×" } ?? "not measured")",
        holds: value.map { $0 <= 1.3 })
    }
    for n in [100, 1_000] {
      let value = ratioValue(
        results.median("attach_detach", "libbpf", n), results.median("attach_detach", "swift-multi", n))
      results.goal(
        "libbpf / swift-multi attach+detach at \(n) sites ≥ 100×: \(value.map { format3($0) + "×" } ?? (n == 1_000 ? "not measured (run with --perf-1000 / BENCH_PERF_1000=1)" : "not measured"))",
        holds: value.map { $0 >= 100 })
    }
  }
}

extension String {
  func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
    var out = ""
    for character in self { if character == target { out += replacement } else { out.append(character) } }
    return out
  }
}
