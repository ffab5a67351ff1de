import Glibc

// Measurements, the results.json writer and the text tables.

/// A JSON value for the extra fields of a measurement.
enum JSONValue {
  case string(String)
  case number(Double)
  case bool(Bool)
  case numbers([Double])

  var json: String {
    switch self {
    case .string(let text): return jsonString(text)
    case .number(let value): return jsonNumber(value)
    case .bool(let value): return value ? "true" : "false"
    case .numbers(let values): return "[" + values.map(jsonNumber).joined(separator: ", ") + "]"
    }
  }
}

func jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    default:
      if scalar.value < 0x20 {
        out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
          + String(scalar.value, radix: 16)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}

func jsonNumber(_ value: Double) -> String {
  guard value.isFinite else { return "null" }
  if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
  return String(format3(value, digits: 6))
}

/// `value` with `digits` significant digits, without exponent.
func format3(_ value: Double, digits: Int = 3) -> String {
  guard value.isFinite else { return "-" }
  guard value != 0 else { return "0" }
  let magnitude = Int(floor(log10(abs(value))))
  let decimals = max(0, digits - 1 - magnitude)
  var buffer = [CChar](repeating: 0, count: 64)
  _ = withVaList([value]) { vsnprintf(&buffer, 64, "%.\(decimals)f", $0) }
  return cArrayString(buffer)
}

/// The text of a NUL-terminated C buffer.
func cArrayString(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// One benchmark cell: several timed runs of one (name, impl, n).
struct Measurement {
  /// What was timed: attach, detach, attach_detach, hit_wall_nop, hit_bpf_nop5, list, …
  var name: String
  var impl: String
  var n: Int
  /// Each run's time in ns.
  var samples: [Double]
  /// Extra fields for results.json, in order.
  var extra: [(String, JSONValue)] = []

  var runs: Int { samples.count }
  var median: Double { medianOf(samples) }

  var json: String {
    var fields: [(String, String)] = [
      ("name", jsonString(name)), ("impl", jsonString(impl)), ("n", String(n)),
      ("median_ns", jsonNumber(median)), ("runs", String(runs)),
      ("min_ns", jsonNumber(samples.min() ?? .nan)), ("max_ns", jsonNumber(samples.max() ?? .nan)),
      ("samples_ns", JSONValue.numbers(samples).json),
    ]
    fields += extra.map { ($0.0, $0.1.json) }
    return "{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }
}

func medianOf(_ samples: [Double]) -> Double {
  guard !samples.isEmpty else { return .nan }
  let sorted = samples.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Everything measured in this run, in order.
final class Results {
  private(set) var all: [Measurement] = []
  /// Printed lines, also saved next to results.json.
  private(set) var report: [String] = []
  /// Goal checks: (description, holds).
  private(set) var goals: [(String, Bool?)] = []

  func add(_ measurement: Measurement) { all.append(measurement) }

  func find(_ name: String, _ impl: String, _ n: Int) -> Measurement? {
    all.last { $0.name == name && $0.impl == impl && $0.n == n }
  }

  func median(_ name: String, _ impl: String, _ n: Int) -> Double? {
    find(name, impl, n).map(\.median)
  }

  func print(_ line: String = "") {
    Swift.print(line)
    fflush(nil)
    report.append(line)
  }

  /// Records and prints a goal; `holds` nil when it could not be measured.
  func goal(_ text: String, holds: Bool?) {
    goals.append((text, holds))
  }

  func writeJSON(to path: String) throws {
    let text = "[\n" + all.map { "  " + $0.json }.joined(separator: ",\n") + "\n]\n"
    try writeFile(path, text)
  }

  func writeReport(to path: String) throws {
    try writeFile(path, report.joined(separator: "\n") + "\n")
  }
}

func writeFile(_ path: String, _ text: String) throws {
  guard let file = fopen(path, "w") else {
    throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))")
  }
  defer { fclose(file) }
  fputs(text, file)
}

/// `mkdir -p`.
func makeDirectories(_ path: String) {
  var current = path.hasPrefix("/") ? "" : "."
  for part in path.split(separator: "/") {
    current += "/\(part)"
    mkdir(current, 0o755)
  }
}

/// A duration in ns, with a unit: "812 ns", "3.41 µs", "12.5 ms", "13.2 s".
func duration(_ ns: Double?) -> String {
  guard let ns, ns.isFinite else { return "-" }
  switch abs(ns) {
  case ..<1_000: return "\(format3(ns)) ns"
  case ..<1_000_000: return "\(format3(ns / 1_000)) µs"
  case ..<1_000_000_000: return "\(format3(ns / 1_000_000)) ms"
  default: return "\(format3(ns / 1_000_000_000)) s"
  }
}

/// "1.23×", or "-" when either side is missing.
func ratio(_ numerator: Double?, _ denominator: Double?) -> String {
  guard let value = ratioValue(numerator, denominator) else { return "-" }
  return "\(format3(value))×"
}

func ratioValue(_ numerator: Double?, _ denominator: Double?) -> Double? {
  guard let numerator, let denominator, denominator > 0, numerator.isFinite else { return nil }
  return numerator / denominator
}

/// A plain text table: a header row, right-aligned cells except the leading `leftColumns`.
struct Table {
  var header: [String]
  var rows: [[String]] = []
  var leftColumns = 2

  init(_ header: String..., leftColumns: Int = 2) {
    self.header = header
    self.leftColumns = leftColumns
  }

  mutating func add(_ cells: String...) { rows.append(cells) }
  mutating func add(_ cells: [String]) { rows.append(cells) }

  func lines() -> [String] {
    let all = [header] + rows
    let widths = header.indices.map { column in
      all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
    }
    func render(_ row: [String]) -> String {
      row.enumerated().map { column, cell in
        let pad = String(repeating: " ", count: max(0, widths[column] - cell.count))
        return column < leftColumns ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    return [render(header), rule] + rows.map(render)
  }
}

extension Results {
  func print(_ table: Table) {
    for line in table.lines() { print("  " + line) }
  }
}
