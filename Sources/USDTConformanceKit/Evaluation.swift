import FoundationEssentials

/// What running one case through one adapter produced, before it is graded.
public enum AdapterOutcome: Sendable {
  /// The adapter attached, the commands ran, and it reported these hits.
  case hits([ObservedHit])
  /// The adapter exited non-zero before `ready`: it refused the attach (its stderr).
  case refused(String)
  /// The adapter exited with status 2 before `ready`: the implementation has no such mode.
  case unsupported(String)
  /// The adapter died from a signal, failed after `ready`, or printed something unreadable.
  case crashed(String)
  /// The adapter did not get ready, or did not stop, in time.
  case timeout(String)
  /// The harness could not run the case (missing target or adapter, target protocol error).
  case error(String)
}

/// The grade of one case for one implementation.
public struct Verdict: Codable, Sendable, Equatable {
  public enum Status: String, Codable, Sendable, CaseIterable {
    case pass
    /// Attached, but the hits differ from the expectation.
    case wrong
    case refused
    case unsupported
    case crashed
    case timeout
    case error

    /// What the text matrix shows.
    public var label: String {
      switch self {
      case .pass: "pass"
      case .wrong: "WRONG"
      case .refused: "refused"
      case .unsupported: "n/a"
      case .crashed: "CRASHED"
      case .timeout: "TIMEOUT"
      case .error: "ERROR"
      }
    }
  }

  public var status: Status
  /// The first difference, or the error text.
  public var detail: String?
  /// Hits from the target's processes (graded ones), when the adapter attached.
  public var hits: Int?

  public init(_ status: Status, _ detail: String? = nil, hits: Int? = nil) {
    self.status = status
    self.detail = detail
    self.hits = hits
  }
}

/// What the harness learned from the target while running a case.
public struct TargetRun: Sendable {
  /// `key=value` pairs of the target's ready line.
  public var ready: [String: String]
  /// The target's pid and every pid it reported afterwards (`child pid=N`).
  public var pids: Set<Int32>
  /// The target's own pid (the one passed to the adapter in `child` mode).
  public var pid: Int32

  public init(ready: [String: String], pid: Int32, pids: Set<Int32>) {
    self.ready = ready
    self.pid = pid
    self.pids = pids.union([pid])
  }
}

extension Case {
  /// Grades an adapter's outcome against this case's expectation.
  ///
  /// In `all` mode only hits from the target's processes count (other processes may run the same
  /// file); in `child` mode every hit counts, and one from another process is a wrong result.
  public func evaluate(_ outcome: AdapterOutcome, run: TargetRun?) -> Verdict {
    switch outcome {
    case .refused(let text):
      return expect.expectsRefusal ? Verdict(.pass, "refused as expected: \(firstLine(text))") : Verdict(.refused, text)
    case .unsupported(let text): return Verdict(.unsupported, text)
    case .crashed(let text): return Verdict(.crashed, text)
    case .timeout(let text): return Verdict(.timeout, text)
    case .error(let text): return Verdict(.error, text)
    case .hits(let all):
      guard let run else { return Verdict(.error, "no target run") }
      if expect.expectsRefusal {
        return Verdict(.wrong, "expected the attach to be refused, but it attached (\(all.count) hits)", hits: all.count)
      }
      let hits: [ObservedHit]
      switch attach.pid {
      case .all:
        hits = all.filter { run.pids.contains($0.pid) }
      case .child:
        if let stray = all.first(where: { $0.pid != run.pid }) {
          return Verdict(
            .wrong, "a hit from pid \(stray.pid) got through the filter for pid \(run.pid)", hits: all.count)
        }
        hits = all
      }
      do throws(CorpusError) {
        if let difference = try firstDifference(hits, ready: run.ready) {
          return Verdict(.wrong, difference, hits: hits.count)
        }
      } catch {
        return Verdict(.error, error.message, hits: hits.count)
      }
      return Verdict(.pass, nil, hits: hits.count)
    }
  }

  /// The first way `hits` differ from the expectation, or nil when they match.
  func firstDifference(_ hits: [ObservedHit], ready: [String: String]) throws(CorpusError) -> String? {
    if let count = expect.expectedCount, hits.count != count {
      var text = "expected \(count) hit\(count == 1 ? "" : "s"), got \(hits.count)"
      if let first = hits.first, hits.count > count { text += " (first: \(describe(first)))" }
      return text
    }
    if let patterns = expect.hits {
      let resolved = try patterns.map { pattern throws(CorpusError) in try resolve(pattern, ready) }
      var unmatched = Array(hits.indices)
      for (index, pattern) in resolved.enumerated() {
        if let found = unmatched.firstIndex(where: { difference(hits[$0], pattern) == nil }) {
          unmatched.remove(at: found)
          continue
        }
        // Report against the hit in the same position when there is one left, else the first left.
        let candidate = unmatched.contains(index) ? index : unmatched.first
        guard let candidate else { return "expected hit \(index + 1) is missing" }
        return "hit \(index + 1): " + (difference(hits[candidate], pattern) ?? "no match")
      }
    }
    if let pattern = expect.each {
      let resolved = try resolve(pattern, ready)
      for (index, hit) in hits.enumerated() {
        if let text = difference(hit, resolved) { return "hit \(index + 1): \(text)" }
      }
    }
    if let sums = expect.sums {
      for (argument, expected) in sums.enumerated() {
        guard let expected else { continue }
        var sum: UInt64 = 0
        for hit in hits {
          guard argument < hit.args.count, case .integer(let value) = hit.args[argument] else {
            return "arg\(argument) is \(argument < hit.args.count ? hit.args[argument].description : "missing") in a hit; cannot sum"
          }
          sum &+= value
        }
        if sum != expected.value {
          return "sum of arg\(argument): expected \(formatInteger(expected.value)), got \(formatInteger(sum))"
        }
      }
    }
    return nil
  }

  private struct ResolvedPattern {
    var args: [ExpectedValue]
    var cookie: UInt64
  }

  private func resolve(_ pattern: HitPattern, _ ready: [String: String]) throws(CorpusError) -> ResolvedPattern {
    var args: [ExpectedValue] = []
    for value in pattern.args { args.append(try value.resolved(ready)) }
    return ResolvedPattern(args: args, cookie: pattern.cookie?.value ?? attach.cookie)
  }

  /// How one hit differs from a pattern, or nil when it matches.
  private func difference(_ hit: ObservedHit, _ pattern: ResolvedPattern) -> String? {
    if hit.args.count != pattern.args.count {
      return "expected \(pattern.args.count) arguments, got \(hit.args.count) (\(describe(hit)))"
    }
    for (index, expected) in pattern.args.enumerated() where !expected.matches(hit.args[index]) {
      return "arg\(index): expected \(expected), got \(hit.args[index])"
    }
    if let cookie = hit.cookie?.value, cookie != pattern.cookie {
      return "cookie: expected \(formatInteger(pattern.cookie)), got \(formatInteger(cookie))"
    }
    return nil
  }

  private func describe(_ hit: ObservedHit) -> String {
    "pid \(hit.pid), args [\(hit.args.map(\.description).joined(separator: ", "))]"
      + (hit.cookie.map { ", cookie \(formatInteger($0.value))" } ?? "")
  }
}

func firstLine(_ text: String) -> String {
  String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? "")
}
