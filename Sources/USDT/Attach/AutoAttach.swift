extension BPFProgram {
  /// The probe the program's section names, as libbpf's auto-attach reads it:
  /// `SEC("usdt/<path>:<provider>:<name>")` or `SEC("usdt.s/…")`. `nil` for a bare
  /// `SEC("usdt")`, which is attached only by hand.
  ///
  /// - Throws: `.invalidArgument` for a `usdt/` section that is not `<path>:<provider>:<name>`.
  public func sectionProbe() throws(USDTError) -> ProbeSelector? {
    let section = sectionName
    guard let slash = section.firstIndex(of: "/") else { return nil }
    guard ["usdt", "usdt.s"].contains(section[..<slash]) else { return nil }
    guard let probe = ProbeSelector(section[section.index(after: slash)...]) else {
      throw USDTError(
        .invalidArgument, "invalid section \"\(section)\" of program \(name)",
        hint: "Write SEC(\"usdt/<path>:<provider>:<name>\"); the path may not contain ':'")
    }
    return probe
  }
}

extension BPFObject {
  /// Attaches every program whose section names its probe, with cookie 0, as libbpf's
  /// skeleton auto-attach does; programs in a bare `SEC("usdt")` are left alone.
  ///
  /// All or nothing: if one attach fails, those already made are detached before it throws.
  /// - Parameter target: the processes to trace; every process by default (libbpf's pid −1).
  public func attachAutomatically(in target: Target = .allProcesses) throws(USDTError)
    -> [ProbeLink]
  {
    var links: [ProbeLink] = []
    do throws(USDTError) {
      for program in programs {
        guard let probe = try program.sectionProbe() else { continue }
        links.append(try program.attach(to: probe, in: target))
      }
      return links
    } catch {
      links.forEach { $0.detach() }
      throw error
    }
  }
}
