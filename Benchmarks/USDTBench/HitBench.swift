import Glibc
import USDT

// Cost per probe hit: the hit target (targets/hit.c) runs N hits of a 3-argument probe in a
// tight loop on command and times the loop itself. Three sites:
//
//   nop   a plain 1-byte `nop` (the uprobe traps with int3); arguments: 2 registers + 1 memory
//   nop5  `nop; nop5`, where the library puts the uprobe on the nop5 so a nop5-era kernel can
//         replace the trap with a call; the same arguments
//   regs  a plain `nop` with all 3 arguments in registers (no user-memory read at all)
//
// Impls, all attached by the library to that one process:
//
//   none           nothing attached: the loop alone
//   empty          a program that returns 0 at once (the uprobe's own cost)
//   libbpf-header  BPF_USDT(a, b, c) with Debian's libbpf 1.1.2 header: 3 × bpf_usdt_arg, each
//                  looking the cookie and the spec up again (uprobe_multi, cookie)
//   ip-hash        the same program built -nocookie: the spec ID comes from the IP → HASH map
//                  (Options(specLookup: .ipMap), which means per-site perf-event uprobes)
//   ours           the same program with our header: one spec lookup, 3 arguments decoded
//
// Each (round, site, impl): attach, 10,000 warm-up hits, N hits with bpf_stats on (wall time, and
// the program's run_time_ns / run_cnt; run_cnt must grow by exactly N and the program's sum of
// the arguments must be n*n + n*1000), detach. --separate-wall-loop adds N hits with bpf_stats
// off before, for a wall time without the kernel's accounting.

struct HitBench {
  let config: Config
  let results: Results

  /// One column of the benchmark.
  struct Impl {
    var name: String
    var program: BPFProgram?
    var handle: ProgramHandle?
    /// The `sums` map when the program adds the arguments up.
    var sums: BPFMap?
  }

  static let sites = ["nop", "nop5", "regs"]
  static let warmupHits = 10_000
  /// targets/hit.c: data[1].
  static let data1: UInt64 = 1000

  func run() throws {
    let n = config.hits
    results.print("== hit: \(n) hits of a 3-argument probe, ns per hit ==")
    results.print("  sites: nop, nop5 = \"-4@%reg 8@%reg 8@8(%reg)\" (plain nop / nop;nop5), regs = \"-4@%reg 8@%reg 8@%reg\" (plain nop)")
    let hitPath = config.path("hit")
    let target = try Coprocess([hitPath], readyPrefix: "ready pid=")
    defer { target.finish() }
    guard let pid = pid_t(target.readyLine.dropFirst("ready pid=".count)) else {
      throw BenchError("hit target: \(target.readyLine)")
    }

    func load(_ file: String, _ options: BPFObject.Options) throws -> (BPFObject, [String: ProgramHandle]) {
      try ProgramHandle.programsLoaded { try BPFObject(path: config.path(file), options: options) }
    }
    let (libbpfObject, libbpfPrograms) = try load("hit.bpf.o", .init(backend: .uprobeMulti))
    let (ipObject, ipPrograms) = try load("hit-nocookie.bpf.o", .init(specLookup: .ipMap))
    let (oursObject, oursPrograms) = try load("hit-ours.bpf.o", .init(backend: .uprobeMulti))
    func impl(_ name: String, _ object: BPFObject, _ handles: [String: ProgramHandle], _ program: String) throws -> Impl {
      guard let handle = handles[program] else { throw BenchError("\(object.path): no loaded program \(program)") }
      return Impl(
        name: name, program: try object.program(named: program), handle: handle,
        sums: program == "hit_args" ? try object.map(named: "sums") : nil)
    }
    let impls = [
      Impl(name: "none"),
      try impl("empty", libbpfObject, libbpfPrograms, "hit_empty"),
      try impl("libbpf-header", libbpfObject, libbpfPrograms, "hit_args"),
      try impl("ip-hash", ipObject, ipPrograms, "hit_args"),
      try impl("ours", oursObject, oursPrograms, "hit_args"),
    ]
    let list = try ProbeList(path: hitPath)
    var noteAddress: [String: UInt64] = [:]
    for site in Self.sites {
      guard let probe = list.sites(provider: "bench", name: "hit_\(site)").first else {
        throw BenchError("\(hitPath): no probe bench:hit_\(site)")
      }
      noteAddress[site] = probe.address
    }

    // By default one loop per cell, with bpf_stats on throughout: its wall time includes the
    // kernel's two clock reads per program run (tens of ns, the same for every impl with a
    // program). --separate-wall-loop adds a loop with bpf_stats off for the wall time.
    let separate = config.separateWallLoop
    try BPFStats.save()
    defer { BPFStats.restore() }
    try BPFStats.set(!separate)

    var wall: [String: [Double]] = [:]
    var wallStats: [String: [Double]] = [:]
    var bpf: [String: [Double]] = [:]
    var placement: [String: String] = [:]
    let start = nowNS()
    var rounds = 0
    for round in 0..<config.hitRuns {
      // A busy machine makes every hit slower: no new round past the budget once 3 are done.
      if round >= 3 && Double(nowNS() - start) / 1e9 > Double(config.hitBudgetS) { break }
      rounds += 1
      for site in Self.sites {
        for impl in round % 2 == 0 ? impls : impls.reversed() {
          let key = "\(site)/\(impl.name)"
          var link: ProbeLink?
          defer { link?.detach() }
          if let program = impl.program {
            link = try program.attach(
              to: ProbeSelector(binary: hitPath, provider: "bench", name: "hit_\(site)"), in: .process(pid))
            let shift = (link?.siteAddresses.first ?? 0) &- (noteAddress[site] ?? 0)
            placement[key] = shift == 0 ? "on the nop (int3)" : "on the nop5 (+\(shift))"
          }
          _ = try loop(target, site, Self.warmupHits)
          guard let handle = impl.handle else {
            wall[key, default: []].append(try loop(target, site, n) / Double(n))
            continue
          }
          if separate {
            try BPFStats.set(false)
            wall[key, default: []].append(try checkedLoop(target, impl, key, site, n) / Double(n))
          }
          let (loopNS, bpfNS) = try statsLoop(target, impl, handle, key, site, n)
          if separate {
            wallStats[key, default: []].append(loopNS / Double(n))
          } else {
            wall[key, default: []].append(loopNS / Double(n))
          }
          bpf[key, default: []].append(bpfNS)
        }
      }
    }
    results.print("  \(rounds) rounds × \(Self.sites.count) sites × \(impls.count) impls in \(format3(Double(nowNS() - start) / 1e9)) s")

    for site in Self.sites {
      let none = medianOf(wall["\(site)/none"] ?? [])
      for impl in impls {
        let key = "\(site)/\(impl.name)"
        let common: [(String, JSONValue)] = [
          ("site", .string(site)), ("unit", .string("ns per hit")), ("hits", .number(Double(n))),
        ]
        if let samples = wall[key] {
          results.add(
            Measurement(
              name: "hit_wall_\(site)", impl: impl.name, n: n, samples: samples,
              extra: common + [("net_ns", .number(medianOf(samples) - none)), ("bpf_stats", .bool(!config.separateWallLoop && impl.handle != nil))]
                + (placement[key].map { [("uprobe", .string($0))] } ?? [])))
        }
        if let samples = wallStats[key] {
          results.add(
            Measurement(
              name: "hit_wall_stats_\(site)", impl: impl.name, n: n, samples: samples,
              extra: common + [("net_ns", .number(medianOf(samples) - none)), ("bpf_stats", .bool(true))]))
        }
        if let samples = bpf[key] {
          results.add(
            Measurement(
              name: "hit_bpf_\(site)", impl: impl.name, n: n, samples: samples,
              extra: common + [("source", .string("bpf_stats run_time_ns / run_cnt"))]))
        }
      }
    }
    report(impls: impls.map(\.name), n: n, placement: placement)
  }

  /// N hits with bpf_stats on: (loop ns, BPF ns per run). run_cnt must grow by exactly n; if it
  /// does not, another process toggled the (global) sysctl: turn it on again and retry, twice.
  private func statsLoop(
    _ target: Coprocess, _ impl: Impl, _ handle: ProgramHandle, _ key: String, _ site: String, _ n: Int
  ) throws -> (Double, Double) {
    for attempt in 1...3 {
      try BPFStats.set(true)
      let before = try handle.stats()
      let loopNS = try checkedLoop(target, impl, key, site, n)
      let after = try handle.stats()
      let runs = after.count - before.count
      if runs == UInt64(n) {
        if config.separateWallLoop { try BPFStats.set(false) }
        return (loopNS, Double(after.time - before.time) / Double(runs))
      }
      let message = "\(key): bpf_stats counted \(runs) runs for \(n) hits (kernel.bpf_stats_enabled changed by another process?)"
      guard attempt < 3 else { throw BenchError(message) }
      results.print("  retrying: \(message)")
    }
    throw BenchError("unreachable")
  }

  /// N hits; for a program that sums the arguments, checks they summed to n*n + n*1000.
  private func checkedLoop(_ target: Coprocess, _ impl: Impl, _ key: String, _ site: String, _ n: Int) throws -> Double {
    if let sums = impl.sums { try sums.setValue([UInt8](repeating: 0, count: 8), at: 0) }
    let ns = try loop(target, site, n)
    if let sums = impl.sums {
      let sum = try sums.value(at: 0).prefix(8).enumerated().reduce(UInt64(0)) {
        $0 | UInt64($1.element) << (8 * $1.offset)
      }
      let expected = UInt64(n) * UInt64(n) + UInt64(n) * Self.data1
      guard sum == expected else { throw BenchError("\(key): the arguments summed to \(sum), not \(expected)") }
    }
    return ns
  }

  /// Runs `count` hits of `site` in the target; the loop's time in ns, as the target measured it.
  private func loop(_ target: Coprocess, _ site: String, _ count: Int) throws -> Double {
    let reply = try target.send("loop \(site) \(count)")
    guard reply.hasPrefix("done "), let ns = Double(reply.dropFirst(5)) else {
      throw BenchError("hit target: \(reply)")
    }
    return ns
  }

  private func report(impls: [String], n: Int, placement: [String: String]) {
    var table = Table("site", "impl", "runs", "wall/hit", "net wall", "BPF prog/hit", "uprobe")
    if config.separateWallLoop { table.header.insert("wall (stats on)", at: 5) }
    for site in Self.sites {
      for impl in impls {
        guard let w = results.find("hit_wall_\(site)", impl, n) else { continue }
        let none = results.median("hit_wall_\(site)", "none", n) ?? 0
        var cells = [
          site, impl, "\(w.runs)", duration(w.median), impl == "none" ? "-" : duration(w.median - none),
          duration(results.median("hit_bpf_\(site)", impl, n)), placement["\(site)/\(impl)"] ?? "-",
        ]
        if config.separateWallLoop { cells.insert(duration(results.median("hit_wall_stats_\(site)", impl, n)), at: 5) }
        table.add(cells)
      }
    }
    results.print(table)
    results.print("  net wall = wall/hit minus `none`; BPF prog = kernel bpf_stats run_time_ns / run_cnt (the program")
    results.print(config.separateWallLoop
      ? "  only, no uprobe); wall/hit from a loop with bpf_stats off, \"wall (stats on)\" from the BPF loop"
      : "  only, no uprobe); wall/hit from the same loop, bpf_stats on (--separate-wall-loop: also off)")
    results.print()

    var ratios = Table("ratio (medians)", leftColumns: 1)
    ratios.header = ["ratio (medians)"] + Self.sites
    func bpfRow(_ label: String, _ top: String, _ bottom: String) {
      ratios.add([label] + Self.sites.map { ratio(results.median("hit_bpf_\($0)", top, n), results.median("hit_bpf_\($0)", bottom, n)) })
    }
    func netRow(_ label: String, _ top: String, _ bottom: String) {
      ratios.add(
        [label]
          + Self.sites.map { site in
            let none = results.median("hit_wall_\(site)", "none", n) ?? 0
            return ratio(
              results.median("hit_wall_\(site)", top, n).map { $0 - none },
              results.median("hit_wall_\(site)", bottom, n).map { $0 - none })
          })
    }
    bpfRow("BPF time  ours / libbpf-header", "ours", "libbpf-header")
    ratios.add(
      ["BPF time  (ours − empty) / (libbpf-header − empty)"]
        + Self.sites.map { site in
          let empty = results.median("hit_bpf_\(site)", "empty", n) ?? 0
          return ratio(
            results.median("hit_bpf_\(site)", "ours", n).map { $0 - empty },
            results.median("hit_bpf_\(site)", "libbpf-header", n).map { $0 - empty })
        })
    bpfRow("BPF time  ip-hash / libbpf-header", "ip-hash", "libbpf-header")
    bpfRow("BPF time  libbpf-header / empty", "libbpf-header", "empty")
    netRow("net wall  ours / libbpf-header", "ours", "libbpf-header")
    netRow("net wall  empty / libbpf-header", "empty", "libbpf-header")
    ratios.add(
      ["net wall  nop5 site / nop site (empty)"]
        + [
          ratio(
            results.median("hit_wall_nop5", "empty", n).map { $0 - (results.median("hit_wall_nop5", "none", n) ?? 0) },
            results.median("hit_wall_nop", "empty", n).map { $0 - (results.median("hit_wall_nop", "none", n) ?? 0) }),
          "", "",
        ])
    results.print(ratios)
    results.print()

    for site in Self.sites {
      let value = ratioValue(results.median("hit_bpf_\(site)", "ours", n), results.median("hit_bpf_\(site)", "libbpf-header", n))
      results.goal(
        "ours / libbpf-header BPF time per hit on the \(site) site ≤ 0.8×: \(value.map { format3($0) + "×" } ?? "not measured")",
        holds: value.map { $0 <= 0.8 })
    }
  }
}
