import Glibc

// usdt-bench: the benchmark suite behind `make bench` (Benchmarks/bench.mk builds the targets,
// helpers and BPF objects it takes from --bench-dir). Three groups, each comparing impls side by
// side within one run, since the machine is noisy:
//
//   attach  AttachBench.swift  attach/detach of one probe at 100 … 50,000 sites
//   hit     HitBench.swift     wall and BPF time per hit of a 3-argument probe
//   list    ListBench.swift    `usdt list` against readelf -n and tplist-bpfcc
//
// Results: <out>/results.json (one object per cell: name, impl, n, median_ns, runs, …) and the
// printed tables in <out>/table.txt. Needs root. Child processes are killed and kernel.bpf_stats_enabled
// is restored on every exit path.

/// Signals end the run cleanly: restore the sysctl, kill the children (links die with us).
func installSignalHandlers() {
  for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] {
    Glibc.signal(signal) { received in
      BPFStats.restore()
      for pid in liveChildren { kill(pid, SIGKILL) }
      _exit(128 + received)
    }
  }
}

func runSuite() -> Int32 {
  let config: Config
  do {
    config = try Config(arguments: Array(CommandLine.arguments.dropFirst()))
  } catch {
    print("usdt-bench: \(error)")
    return 2
  }
  guard geteuid() == 0 else {
    print("usdt-bench: needs root (attaching uprobes, bpf_stats)")
    return 2
  }
  installSignalHandlers()
  defer {
    BPFStats.restore()
    killAllChildren()
  }
  var limit = rlimit()
  if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {  // swift-perf holds a link per site
    limit.rlim_cur = limit.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
  }
  makeDirectories(config.outDir)

  let results = Results()
  let start = nowNS()
  var failures: [String] = []
  let groups: [(String, () throws -> Void)] = [
    ("attach", { try AttachBench(config: config, results: results).run() }),
    ("hit", { try HitBench(config: config, results: results).run() }),
    ("list", { try ListBench(config: config, results: results).run() }),
  ]
  for (name, body) in groups where config.groups.contains(name) {
    do {
      try body()
    } catch {
      failures.append("\(name): \(error)")
      results.print("  \(name) FAILED: \(error)")
      results.print()
    }
  }

  results.print("== goals ==")
  for (text, holds) in results.goals {
    let mark = holds.map { $0 ? "[met]   " : "[MISSED]" } ?? "[n/a]   "
    results.print("  \(mark) \(text)")
  }
  results.print()
  results.print("usdt-bench: \(format3(Double(nowNS() - start) / 1e9)) s; results in \(config.outDir)/results.json")
  do {
    try results.writeJSON(to: "\(config.outDir)/results.json")
    try results.writeReport(to: "\(config.outDir)/table.txt")
  } catch {
    failures.append("\(error)")
  }
  for failure in failures { print("usdt-bench: FAILED: \(failure)") }
  return failures.isEmpty ? 0 : 1
}

exit(runSuite())
