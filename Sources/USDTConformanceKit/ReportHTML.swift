import FoundationEssentials

extension Report {
  /// A self-contained HTML page: the matrix (case × implementation) with totals, every
  /// non-passing cell's detail, and the run's host facts. Inline CSS, no scripts, no external
  /// assets, so it can be attached to a CI run or mailed as is.
  public func html() -> String {
    let names = implementations.map(\.name)
    var out = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <title>USDT conformance report</title>
      <style>
      body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1b1b1b}
      h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .4em}
      table{border-collapse:collapse;margin:.5em 0}
      th,td{border:1px solid #d0d0d0;padding:.25em .6em;text-align:left;vertical-align:top}
      th{background:#f3f3f3}td.c{text-align:center;white-space:nowrap}
      .pass{background:#d9f2d9;color:#14521a}.wrong{background:#fbd5d5;color:#7a1010}
      .refused{background:#fde9c8;color:#6b4200}.unsupported{background:#ececec;color:#555}
      .crashed,.timeout,.error{background:#e8d4f7;color:#4b1670}
      tr.suite th{background:#e4ebf5;text-align:left}
      code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
      .muted{color:#666}.detail{max-width:60em;white-space:pre-wrap;word-break:break-word}
      </style></head><body>
      <h1>USDT conformance report</h1>

      """
    out += "<p class=\"muted\">Generated \(escape(generated)) in \(oneDecimal(seconds)) s"
    let facts = host.keys.sorted().map { "\(escape($0)) <code>\(escape(host[$0] ?? ""))</code>" }
    if !facts.isEmpty { out += " · " + facts.joined(separator: " · ") }
    out += "</p>\n"

    // Totals.
    out += "<h2>Totals</h2>\n<table><tr><th>implementation</th><th>passed</th>"
    let statuses = Verdict.Status.allCases.filter { $0 != .pass }
    for status in statuses { out += "<th>\(status.label.lowercased())</th>" }
    out += "<th>command</th></tr>\n"
    for implementation in implementations {
      let total = totals[implementation.name] ?? Totals()
      out += "<tr><th title=\"\(escape(implementation.description))\">\(escape(implementation.name))</th>"
      out += "<td class=\"c \(total.passed == total.cases ? "pass" : "wrong")\">\(total.passed) / \(total.cases)</td>"
      for status in statuses {
        let count = total.count(status)
        out += "<td class=\"c\(count > 0 ? " \(status.rawValue)" : "")\">\(count)</td>"
      }
      out += "<td class=\"mono\">\(escape(implementation.command.joined(separator: " ")))</td></tr>\n"
    }
    out += "</table>\n"

    // Matrix.
    out += "<h2>Matrix</h2>\n<table><tr><th>case</th><th>probe</th><th>attach</th><th>expected</th>"
    for name in names { out += "<th>\(escape(name))</th>" }
    out += "</tr>\n"
    var suite = ""
    for item in cases {
      if item.suite != suite {
        suite = item.suite
        out += "<tr class=\"suite\"><th colspan=\"\(4 + names.count)\">\(escape(suite))</th></tr>\n"
      }
      out += "<tr><td class=\"mono\" title=\"\(escape(item.note ?? ""))\">\(escape(item.id))</td>"
      out += "<td class=\"mono\">\(escape(item.probe))<br><span class=\"muted\">\(escape(item.file))</span></td>"
      out += "<td class=\"mono\">pid \(escape(item.pid)), \(escape(item.mode))"
      if item.cookie.value != 0 { out += "<br>cookie 0x\(String(item.cookie.value, radix: 16))" }
      out += "</td><td class=\"mono detail\">\(escape(item.expected))</td>"
      for name in names {
        guard let verdict = item.results[name] else {
          out += "<td class=\"c muted\">–</td>"
          continue
        }
        let title = verdict.detail.map { " title=\"\(escape($0))\"" } ?? ""
        out += "<td class=\"c \(verdict.status.rawValue)\"\(title)>\(escape(verdict.status.label.lowercased()))</td>"
      }
      out += "</tr>\n"
    }
    out += "</table>\n"

    // Details of every cell that did not pass.
    var details = ""
    for item in cases {
      for name in names {
        guard let verdict = item.results[name], verdict.status != .pass else { continue }
        details += "<tr><td class=\"mono\">\(escape(item.id))</td><td>\(escape(name))</td>"
        details += "<td class=\"c \(verdict.status.rawValue)\">\(escape(verdict.status.label.lowercased()))</td>"
        details += "<td class=\"mono detail\">\(escape(verdict.detail ?? ""))</td></tr>\n"
      }
    }
    if !details.isEmpty {
      out += "<h2>What did not pass</h2>\n<table><tr><th>case</th><th>implementation</th><th>result</th><th>first difference or error</th></tr>\n"
      out += details + "</table>\n"
    }
    out += """
      <h2>Legend</h2>
      <p><span class="pass">&nbsp;pass&nbsp;</span> every expected hit seen with the expected values ·
      <span class="wrong">&nbsp;wrong&nbsp;</span> attached, but a count, value or cookie differs (first difference shown) ·
      <span class="refused">&nbsp;refused&nbsp;</span> the implementation declined the attach ·
      <span class="unsupported">&nbsp;n/a&nbsp;</span> the implementation has no such mode (e.g. no cookies) ·
      <span class="crashed">&nbsp;crashed / timeout / error&nbsp;</span> the adapter died, hung, or the harness could not run the case.
      Cases and the adapter protocol: <code>Conformance/</code>.</p>
      </body></html>

      """
    return out
  }
}

/// HTML-escapes text for element content and attribute values.
func escape(_ text: String) -> String {
  var out = ""
  out.reserveCapacity(text.utf8.count)
  for character in text {
    switch character {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default: out.append(character)
    }
  }
  return out
}

/// `12.3`: seconds for people, without Foundation's formatters.
public func oneDecimal(_ value: Double) -> String {
  let tenths = Int((value * 10).rounded())
  return "\(tenths / 10).\(abs(tenths % 10))"
}
