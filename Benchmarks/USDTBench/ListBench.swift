import Glibc
import USDT

// Listing the probes of a large binary (libjvm.so: 531 notes): `usdt list` (release build, JSON
// and text) against `readelf -n` and BCC's `tplist-bpfcc -l` (and `-vv -l`, which also prints
// every site's arguments, as `usdt list` does). Wall time from spawn to exit, output to
// /dev/null, commands interleaved round by round; peak memory (max RSS) from one extra run of
// each under `/usr/bin/time -f %M`. `usdt-startup` (`usdt list /usr/bin/true`, no notes) shows
// how much of `usdt list` is process start-up.

struct ListBench {
  let config: Config
  let results: Results

  static let candidates = [
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
    "/usr/lib/postgresql/15/bin/postgres",
  ]

  func run() throws {
    let file = try chooseFile()
    let notes = try ProbeList(path: file).probes.count
    results.print("== list: FILE = \(file) (\(notes) probe sites) ==")

    var commands: [(String, [String])] = [
      ("usdt-json", [config.usdt, "list", "--json", file]),
      ("usdt-text", [config.usdt, "list", file]),
      ("readelf", ["readelf", "-n", file]),
      // The floor of any `usdt` run: start-up and dynamic linking, on a file without notes.
      ("usdt-startup", [config.usdt, "list", "/usr/bin/true"]),
    ]
    var remarks: [String] = []
    if findExecutable("tplist-bpfcc") != nil {
      commands += [("tplist", ["tplist-bpfcc", "-l", file]), ("tplist-vv", ["tplist-bpfcc", "-vv", "-l", file])]
    } else {
      remarks.append("tplist-bpfcc not installed (apt-get install bpfcc-tools failed?): skipped")
    }
    let timeCommand = findExecutable("/usr/bin/time")
    if timeCommand == nil { remarks.append("/usr/bin/time missing (package time): no peak memory") }

    var samples: [String: [Double]] = [:]
    var failed: [String: String] = [:]
    let start = nowNS()
    for round in 0...config.listRuns {  // round 0: warm-up (page cache, dynamic loader)
      for (name, argv) in round % 2 == 0 ? commands : commands.reversed() where failed[name] == nil {
        do {
          let ns = try runTimed(argv)
          if round > 0 { samples[name, default: []].append(ns) }
        } catch {
          failed[name] = "\(error)"
        }
      }
    }
    var peak: [String: Double] = [:]
    if timeCommand != nil {
      let scratch = "\(config.outDir)/time-output.txt"
      for (name, argv) in commands where failed[name] == nil {
        do {
          _ = try runTimed(["/usr/bin/time", "-f", "%M", "-o", scratch] + argv)
          let text = try readText(scratch)
          if let kb = Double(text.split(separator: "\n").last.map { String($0) }?.trimmingSpaces ?? "") { peak[name] = kb }
        } catch {
          remarks.append("peak memory of \(name): \(error)")
        }
      }
      unlink(scratch)
    }
    results.print("  \(config.listRuns) runs each after a warm-up, in \(format3(Double(nowNS() - start) / 1e9)) s")

    for (name, argv) in commands {
      if let reason = failed[name] { remarks.append("\(name) FAILED: \(reason)") }
      guard let s = samples[name] else { continue }
      var extra: [(String, JSONValue)] = [("command", .string(argv.joined(separator: " "))), ("file", .string(file))]
      if let kb = peak[name] { extra.append(("peak_kb", .number(kb))) }
      results.add(Measurement(name: "list", impl: name, n: notes, samples: s, extra: extra))
    }

    var table = Table("impl", "runs", "wall", "peak RSS", "vs readelf", "command", leftColumns: 1)
    for (name, argv) in commands {
      guard let m = results.find("list", name, notes) else { continue }
      table.add(
        name, "\(m.runs)", duration(m.median), peak[name].map { "\(Int($0)) KB" } ?? "-",
        ratio(m.median, results.median("list", "readelf", notes)),
        argv.map { $0 == file ? "FILE" : $0 == config.usdt ? "usdt" : $0 }.joined(separator: " "))
    }
    results.print(table)
    for note in remarks { results.print("  note: \(note)") }
    results.print()

    for impl in ["usdt-text", "usdt-json"] {
      let vsReadelf = ratioValue(results.median("list", impl, notes), results.median("list", "readelf", notes))
      results.goal(
        "\(impl) wall ≤ 1.5× readelf -n: \(vsReadelf.map { format3($0) + "×" } ?? "not measured")",
        holds: vsReadelf.map { $0 <= 1.5 })
      let vsTplist = ratioValue(results.median("list", "tplist", notes), results.median("list", impl, notes))
      results.goal(
        "tplist -l / \(impl) wall ≥ 10×: \(vsTplist.map { format3($0) + "×" } ?? "not measured")",
        holds: vsTplist.map { $0 >= 10 })
    }
  }

  private func chooseFile() throws -> String {
    if let file = config.listFile { return file }
    for file in Self.candidates where access(file, R_OK) == 0 { return file }
    // Else: the file with the most notes among a few usual suspects.
    var best: (String, Int)?
    for dir in ["/usr/bin", "/usr/lib/x86_64-linux-gnu"] {
      guard let handle = opendir(dir) else { continue }
      defer { closedir(handle) }
      while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        guard !name.hasPrefix(".") else { continue }
        let path = "\(dir)/\(name)"
        guard let count = try? ProbeList(path: path).probes.count, count > (best?.1 ?? 0) else { continue }
        best = (path, count)
      }
    }
    guard let best else { throw BenchError("no binary with USDT notes found; pass --list-file") }
    return best.0
  }
}

func readText(_ path: String) throws -> String {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw BenchError("cannot read \(path)") }
  defer { close(fd) }
  var reader = LineReader(fd: fd)
  var text = ""
  while let line = reader.readLine() { text += line + "\n" }
  return text
}

extension String {
  var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
