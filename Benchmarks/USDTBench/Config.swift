import Glibc

/// Command-line options; `make bench` passes the paths, everything else has a default sized to
/// finish the whole suite in about five minutes on a 2-core machine.
struct Config {
  /// Where bench.mk put the targets, helpers and BPF objects ($(OUT)/bench).
  var benchDir = "TestTargets/out/bench"
  /// The release `usdt` command (list benchmark).
  var usdt = ".build/release/usdt"
  /// Directory for results.json and table.txt.
  var outDir = ".build/bench"
  /// Benchmark groups to run.
  var groups: Set<String> = ["attach", "hit", "list"]

  /// Site counts of the attach benchmark for the uprobe_multi impls.
  var attachSizes = [100, 1_000, 10_000, 50_000]
  /// Also run swift-perf and libbpf at 1,000 sites (each detach then takes ~2 minutes).
  var perf1000 = false
  /// Recorded runs per (impl, N) for the multi-link impls, after one warm-up run.
  var attachRuns = 7
  /// Recorded runs for the per-site perf-event impls (no warm-up: a detach of 100 sites takes
  /// ~13 s here, every perf-event close waiting ~0.13 s).
  var perfRuns = 3
  /// Runs at 1,000 sites for the perf-event impls, with --perf-1000.
  var perf1000Runs = 1
  /// Seconds per perf-event impl and N after which it gets no new run once it has 2.
  var perfBudgetS = 45
  /// Idle time before each timed attach and detach (AttachBench.settle()).
  var settleMS = 50

  /// Probe hits per timed loop.
  var hits = 1_000_000
  /// Rounds over every (site, impl) of the hit benchmark.
  var hitRuns = 5
  /// Seconds after which no new hit round starts once 3 are done.
  var hitBudgetS = 120
  /// Time the wall clock in a loop of its own with bpf_stats off (doubles the hit benchmark).
  var separateWallLoop = false

  /// Runs per command of the list benchmark, after one warm-up.
  var listRuns = 7
  /// The file to list; by default libjvm.so, else postgres, else the largest of a few others.
  var listFile: String?

  static let usage = """
    usage: usdt-bench [--bench-dir DIR] [--usdt PATH] [--out DIR] [--only attach,hit,list]
                      [--perf-1000] [--attach-runs N] [--perf-runs N] [--perf-budget-s S]
                      [--settle-ms N] [--hits N] [--hit-runs N] [--hit-budget-s S]
                      [--separate-wall-loop] [--list-runs N] [--list-file PATH]
    Run as root. Writes DIR/results.json and DIR/table.txt (default .build/bench).
    """

  init(arguments: [String]) throws {
    var rest = arguments[...]
    func value(_ flag: String) throws -> String {
      guard let next = rest.popFirst() else { throw BenchError("\(flag) needs a value\n\(Config.usage)") }
      return next
    }
    func number(_ flag: String) throws -> Int {
      let text = try value(flag)
      guard let n = Int(text.replacingUnderscores), n > 0 else { throw BenchError("\(flag): not a positive number: \(text)") }
      return n
    }
    while let argument = rest.popFirst() {
      switch argument {
      case "--bench-dir": benchDir = try value(argument)
      case "--usdt": usdt = try value(argument)
      case "--out": outDir = try value(argument)
      case "--only": groups = Set(try value(argument).split(separator: ",").map(String.init))
      case "--perf-1000": perf1000 = true
      case "--attach-runs": attachRuns = try number(argument)
      case "--perf-runs": perfRuns = try number(argument)
      case "--settle-ms": settleMS = try number(argument)
      case "--perf-budget-s": perfBudgetS = try number(argument)
      case "--hit-budget-s": hitBudgetS = try number(argument)
      case "--hits": hits = try number(argument)
      case "--hit-runs": hitRuns = try number(argument)
      case "--separate-wall-loop": separateWallLoop = true
      case "--list-runs": listRuns = try number(argument)
      case "--list-file": listFile = try value(argument)
      case "-h", "--help":
        print(Config.usage)
        exit(0)
      default: throw BenchError("unknown argument \(argument)\n\(Config.usage)")
      }
    }
    if let env = getenv("BENCH_PERF_1000"), String(cString: env) == "1" { perf1000 = true }
    let unknown = groups.subtracting(["attach", "hit", "list"])
    guard unknown.isEmpty else { throw BenchError("unknown benchmark group(s): \(unknown.sorted())") }
  }

  func path(_ name: String) -> String { "\(benchDir)/\(name)" }
}

extension String {
  var replacingUnderscores: String { String(filter { $0 != "_" && $0 != "," }) }
}
