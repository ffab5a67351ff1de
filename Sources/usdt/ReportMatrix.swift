import Glibc
import USDTConformanceKit

/// Prints the case × implementation matrix, what did not pass, and the totals.
func printMatrix(_ report: Report, colors: Bool) {
  let names = report.implementations.map(\.name)
  let idWidth = min(max(report.cases.map(\.id.count).max() ?? 4, 4), 60)
  let columnWidth = max(9, (names.map(\.count).max() ?? 0) + 1)

  func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }
  func paint(_ verdict: Verdict?) -> String {
    let label = verdict?.status.label ?? "-"
    let cell = pad(label, columnWidth)
    guard colors, let status = verdict?.status else { return cell }
    let code =
      switch status {
      case .pass: "32"
      case .wrong: "31"
      case .refused: "33"
      case .unsupported: "90"
      case .crashed, .timeout, .error: "35"
      }
    return "\u{1B}[\(code)m\(cell)\u{1B}[0m"
  }

  print(pad("case", idWidth) + "  " + names.map { pad($0, columnWidth) }.joined())
  var suite = ""
  for item in report.cases {
    if item.suite != suite {
      suite = item.suite
      print("── \(suite) " + String(repeating: "─", count: max(0, idWidth + 2 + columnWidth * names.count - suite.count - 4)))
    }
    let id = item.id.count > idWidth ? String(item.id.prefix(idWidth - 1)) + "…" : item.id
    print(pad(id, idWidth) + "  " + names.map { paint(item.results[$0]) }.joined())
  }

  var details: [String] = []
  for item in report.cases {
    for name in names {
      guard let verdict = item.results[name], verdict.status != .pass else { continue }
      var text = (verdict.detail ?? "").split(separator: "\n").joined(separator: " | ")
      if text.count > 220 { text = String(text.prefix(219)) + "…" }
      details.append("  \(item.id) × \(name): \(verdict.status.label) \(text)")
    }
  }
  if !details.isEmpty {
    print("\nNot passed:")
    details.forEach { print($0) }
  }

  print("\nTotals (\(report.cases.count) cases, \(oneDecimal(report.seconds)) s):")
  for name in names {
    let total = report.totals[name] ?? Report.Totals()
    var parts = ["\(total.passed)/\(total.cases) pass"]
    for status in Verdict.Status.allCases where status != .pass && total.count(status) > 0 {
      parts.append("\(total.count(status)) \(status.label.lowercased())")
    }
    print("  " + pad(name, columnWidth) + parts.joined(separator: ", "))
  }
}

/// The progress line on stderr: rewritten in place on a terminal, one line per case otherwise.
final class Progress {
  let total: Int
  private var done = 0
  private let interactive = isatty(STDERR_FILENO) == 1

  init(total: Int) { self.total = total }

  func show(_ what: String) {
    guard interactive else { return }
    var line = "[\(done + 1)/\(total)] \(what)"
    if line.count > 110 { line = String(line.prefix(109)) + "…" }
    printError("\r\u{1B}[K" + line, newline: false)
  }

  func step() { done += 1 }

  /// Non-interactive: one line per finished case with each implementation's result.
  func finished(_ result: Report.CaseResult, names: [String]) {
    guard !interactive else { return }
    let cells = names.map { "\($0) \(result.results[$0]?.status.label ?? "-")" }.joined(separator: ", ")
    printError("[\(done)/\(total)] \(result.id): \(cells)")
  }

  func clear() {
    if interactive { printError("\r\u{1B}[K", newline: false) }
  }
}

private func printError(_ message: String, newline: Bool) {
  let line = message + (newline ? "\n" : "")
  _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}
