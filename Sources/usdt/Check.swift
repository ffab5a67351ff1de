import ArgumentParser
import FoundationEssentials
import Glibc
import USDT

/// `usdt check PATH[:provider[:name]]`: whether each probe site will attach, and which of its
/// arguments a BPF program will read, here and with libbpf 1.1.2 and 1.7.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Tell whether probes will attach and which arguments will be readable, here and with libbpf.",
    discussion: """
      For every site of the selected probes, three verdicts: this library's (the probe attaches \
      when its notes locate it; an argument the BPF object's usdt.bpf.h cannot decode reads as \
      unavailable, the others still decode), and libbpf 1.1.2's and 1.7's, which refuse the \
      whole probe when any argument of any of its sites is outside their grammar, and every \
      probe of a file with a malformed note. libbpf's verdicts come from its own sscanf \
      patterns and register tables, as libbpf built for the file's architecture would apply \
      them. Needs no privilege.
      """)

  @Argument(
    help: ArgumentHelp(
      "Files and probes to check: PATH, PATH:provider or PATH:provider:name.",
      valueName: "PATH[:provider[:name]]"))
  var probes: [ProbePattern]

  @Flag(help: "Print one JSON object per file instead of text.")
  var json = false

  @Option(
    name: .customLong("bpf-object"),
    help: ArgumentHelp(
      "Judge this library's argument reads by the usdt.bpf.h this BPF object was built against. Default: the recorder built into `usdt trace`.",
      valueName: "OBJECT"))
  var bpfObject: String?

  func run() throws {
    let header: HeaderCompatibility
    do {
      header =
        if let bpfObject { try HeaderCompatibility(objectFile: bpfObject) } else {
          try HeaderCompatibility(objectBytes: EmbeddedRecorder.bytes, name: "the recorder built into usdt trace")
        }
    } catch {
      printError("usdt: \(error)")
      throw ExitCode.failure
    }
    var failed = false
    for pattern in probes {
      do {
        let report = try FileCheck(pattern: pattern, header: header)
        if json {
          let encoder = JSONEncoder()
          encoder.outputFormatting = [.sortedKeys]
          print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
          report.printText()
        }
      } catch let error as USDTError {
        failed = true
        printError("usdt: \(error)")
      }
    }
    if failed { throw ExitCode.failure }
  }
}

// MARK: - The report

/// The JSON shape of `usdt check --json`: one object per file.
struct FileCheck: Encodable {
  var path: String
  var arch: String?
  /// The usdt.bpf.h this library's verdicts assume.
  var header: HeaderListing
  var malformedNotes: [String]
  var sites: [SiteCheck]

  enum CodingKeys: String, CodingKey {
    case path, arch, header, sites
    case malformedNotes = "malformed_notes"
  }

  /// Checks the sites `pattern` selects.
  ///
  /// - Throws: what ``ProbeList`` throws for an unreadable file, and `.probeNotFound` when the
  ///   pattern selects no site.
  init(pattern: ProbePattern, header: HeaderCompatibility) throws(USDTError) {
    let list = try ProbeList(path: pattern.path)
    let selected = list.probes.filter(pattern.matches)
    guard !selected.isEmpty else {
      throw USDTError(
        .probeNotFound, list.probes.isEmpty ? "the file has no USDT probes" : "no such probe",
        binary: pattern.path, probe: pattern.provider.map { [$0, pattern.name].compactMap { $0 }.joined(separator: ":") },
        hint: "List the probes of the file with `usdt list \(pattern.path)`")
    }
    path = pattern.path
    arch = list.file.architecture?.rawValue
    self.header = HeaderListing(header)
    malformedNotes = list.malformedNotes.map(\.description)

    let unreadable = header.unreadableArguments(of: selected, in: list.file)
    var groups: [String: ProbeGroup] = [:]
    sites = zip(selected, unreadable).map { site, unreadable in
      let group = groups[site.qualifiedName] ?? {
        let made = ProbeGroup(sites: list.sites(provider: site.provider, name: site.name), list: list)
        groups[site.qualifiedName] = made
        return made
      }()
      return SiteCheck(site: site, group: group, unreadable: unreadable, header: header)
    }
  }
}

/// Which usdt.bpf.h this library's argument verdicts assume.
struct HeaderListing: Encodable {
  var name: String
  var object: String
  var indexed: Bool
  var floats: Bool
  var unavailableErrno: String

  enum CodingKeys: String, CodingKey {
    case name, object, indexed, floats
    case unavailableErrno = "unavailable_errno"
  }

  init(_ header: HeaderCompatibility) {
    name = header.headerName
    object = header.objectName
    indexed = header.readsIndexedOperands
    floats = header.marksFloats
    unavailableErrno = errnoName(header.unavailableErrno.rawValue)
  }
}

/// One site and the three verdicts.
struct SiteCheck: Encodable {
  var provider: String
  var name: String
  var address: UInt64
  var fileOffset: UInt64?
  /// The note's argument string, verbatim.
  var args: String
  var ours: CheckVerdict
  var libbpf112: CheckVerdict
  var libbpf17: CheckVerdict

  enum CodingKeys: String, CodingKey {
    case provider, name, address, args, ours
    case fileOffset = "file_offset"
    case libbpf112 = "libbpf_1_1_2"
    case libbpf17 = "libbpf_1_7"
  }

  /// The verdict of `release`.
  func verdict(_ release: LibbpfRelease) -> CheckVerdict {
    switch release {
    case .v1_1_2: libbpf112
    case .v1_7: libbpf17
    }
  }

  init(site: Probe, group: ProbeGroup, unreadable: [USDTError], header: HeaderCompatibility) {
    provider = site.provider
    name = site.name
    address = site.address
    fileOffset = site.fileOffset
    args = site.note.arguments
    let tokens = ArgumentTokens(site.note.arguments)

    // Ours: every site of the probe must be attachable; unreadable arguments still attach.
    let argumentCount = site.arguments?.count ?? tokens.count
    let errno = errnoName(header.unavailableErrno.rawValue)
    let notes = unreadable.map { error in
      ArgumentNote(
        index: error.argument ?? 0,
        operand: error.argument.flatMap { tokens.text(at: $0) } ?? error.input ?? "",
        errno: errno, reason: error.message)
    }
    if let found = group.ourProblem {
      let (failing, problem) = found
      ours = CheckVerdict(
        attaches: false, errno: problem.errno.map { errnoName($0.rawValue) },
        reason: Self.at(failing, from: site) + problem.description, readable: [], unreadable: notes)
    } else {
      let unreadableIndices = Set(notes.map(\.index))
      ours = CheckVerdict(
        attaches: true, errno: nil, reason: nil,
        readable: (0..<argumentCount).filter { !unreadableIndices.contains($0) }, unreadable: notes)
    }

    func libbpf(_ release: LibbpfRelease) -> CheckVerdict {
      let parser = LibbpfArgumentParser(release: release, architecture: group.architecture)
      // Each argument on its own, so every one libbpf lacks is named, not only the first
      // (none when libbpf has no parser for the architecture at all).
      var notes: [ArgumentNote] = parser.patterns == nil ? [] : tokens.tokens.enumerated().compactMap { index, token in
        guard let refusal = parser.parse(token.text).refusal else { return nil }
        return ArgumentNote(index: index, operand: token.text, errno: refusal.errno, reason: refusal.reason)
      }
      guard let found = group.libbpfRefusals[release] else {
        return CheckVerdict(
          attaches: true, errno: nil, reason: nil, readable: Array(0..<tokens.count), unreadable: notes)
      }
      let (failing, refusal) = found
      var reason = refusal.reason
      if let failing, let offset = refusal.byteOffset {
        let failingTokens = ArgumentTokens(failing.note.arguments)
        let index = failingTokens.index(containing: offset)
        let operand = failingTokens.text(at: index) ?? ""
        reason = "argument \(index) (\"\(operand)\"): " + reason
        // libbpf reads the whole string in order, so it can refuse an argument that is fine on
        // its own (1.7's base+index*scale pattern reads across into the next one).
        if failing.address == site.address, !notes.contains(where: { $0.index == index }) {
          notes.append(ArgumentNote(index: index, operand: operand, errno: refusal.errno, reason: refusal.reason))
          notes.sort { $0.index < $1.index }
        }
      }
      reason = Self.at(failing, from: site) + reason
      return CheckVerdict(attaches: false, errno: refusal.errno, reason: reason, readable: [], unreadable: notes)
    }
    libbpf112 = libbpf(.v1_1_2)
    libbpf17 = libbpf(.v1_7)
  }

  /// "site at 0x…: " when the reason lies at another site of the same probe.
  private static func at(_ failing: Probe?, from site: Probe) -> String {
    guard let failing, failing.address != site.address else { return "" }
    return "site at \(hex(failing.address)): "
  }
}

/// Whether one implementation attaches a site, and which of its arguments a program reads.
struct CheckVerdict: Encodable {
  /// Whether attaching the probe (every site of `provider:name`) succeeds.
  var attaches: Bool
  /// When it does not: the errno by name, where there is one.
  var errno: String?
  /// When it does not: why.
  var reason: String?
  /// Arguments a BPF program reads, 0-based; none when the probe does not attach.
  var readable: [Int]
  /// Arguments this implementation cannot read (ours) or refuses (libbpf), with the reason.
  var unreadable: [ArgumentNote]

  /// `✓`, `✗ ENOENT`, `? UB`.
  var mark: String {
    if attaches { return "✓" }
    if errno == "UB" { return "? UB" }
    return "✗" + (errno.map { " " + $0 } ?? "")
  }
}

/// One argument an implementation cannot read.
struct ArgumentNote: Encodable {
  var index: Int
  /// The argument as the note spells it (`-2@(%rcx,%rdx,2)`).
  var operand: String
  /// Ours: what `bpf_usdt_arg()` returns for it (negated). libbpf: the errno of the attach.
  var errno: String?
  var reason: String
}

// MARK: - Verdicts for a whole probe

/// Every site of one `provider:name`: both this library and libbpf attach them all at once, so
/// one bad site fails them all. The verdicts are worked out once per probe, not once per site.
struct ProbeGroup {
  let architecture: Architecture?
  /// The first site this library cannot attach, and why.
  let ourProblem: (site: Probe, error: USDTError)?
  /// Why each libbpf release refuses the probe, and at which site (`nil` for the whole file).
  let libbpfRefusals: [LibbpfRelease: (site: Probe?, refusal: LibbpfRefusal)]

  init(sites: [Probe], list: ProbeList) {
    architecture = list.file.architecture
    ourProblem = sites.first { !$0.isAttachable }.map { site in
      (
        site,
        site.problems.first
          ?? USDTError(
            .addressNotMapped, "the site is in no executable segment", binary: list.file.path,
            probe: site.qualifiedName)
      )
    }
    var refusals: [LibbpfRelease: (site: Probe?, refusal: LibbpfRefusal)] = [:]
    for release in LibbpfRelease.allCases {
      refusals[release] = Self.libbpfRefusal(release, sites: sites, list: list)
    }
    libbpfRefusals = refusals
  }

  /// Why `release` refuses the probe, in libbpf's order: the file, then each site in note
  /// order (its segment, its semaphore, its arguments).
  private static func libbpfRefusal(_ release: LibbpfRelease, sites: [Probe], list: ProbeList)
    -> (site: Probe?, refusal: LibbpfRefusal)?
  {
    let file = list.file
    // sanity_check_usdt_elf: ET_EXEC or ET_DYN only.
    if file.type != 2 && file.type != 3 {
      return (nil, LibbpfRefusal(errno: "EBADF", reason: "libbpf attaches to executables and shared objects only"))
    }
    // collect_usdt_targets parses every note, matching or not.
    if let malformed = list.malformedNotes.first {
      return (
        nil,
        LibbpfRefusal(
          errno: "EINVAL",
          reason: "a malformed note anywhere in .note.stapsdt fails every attach to the file: \(malformed.message)"))
    }
    let parser = LibbpfArgumentParser(release: release, architecture: file.architecture)
    for site in sites {
      if site.fileOffset == nil {
        return (site, LibbpfRefusal(errno: "ESRCH", reason: "the site's address is in no executable segment"))
      }
      if site.note.semaphore != 0 && site.semaphoreOffset == nil {
        return (site, LibbpfRefusal(errno: "ESRCH", reason: "the semaphore is in no writable data segment"))
      }
      if let refusal = parser.parse(site.note.arguments).refusal {
        return (site, refusal)
      }
    }
    return nil
  }
}

// MARK: - Argument tokens

/// A note's argument string split into arguments, as this library splits it: on blanks, with
/// `4 @ %eax` kept together; each with its UTF-8 offset, to match libbpf's position in the string.
struct ArgumentTokens {
  struct Token {
    var text: String
    var byteOffset: Int
  }
  let tokens: [Token]

  var count: Int { tokens.count }

  init(_ arguments: String) {
    guard arguments.first != ":" else {
      tokens = []
      return
    }
    var words: [Token] = []
    var offset = 0
    var current: [UInt8] = []
    var start = 0
    for byte in arguments.utf8 {
      if byte == 0x20 || (0x09...0x0d).contains(byte) {
        if !current.isEmpty { words.append(Token(text: String(decoding: current, as: UTF8.self), byteOffset: start)) }
        current = []
      } else {
        if current.isEmpty { start = offset }
        current.append(byte)
      }
      offset += 1
    }
    if !current.isEmpty { words.append(Token(text: String(decoding: current, as: UTF8.self), byteOffset: start)) }

    var merged: [Token] = []
    for (position, word) in words.enumerated() {
      let next = position + 1 < words.count ? words[position + 1].text : nil
      if let last = merged.last,
        last.text.hasSuffix("@") || word.text.hasPrefix("@") || !Self.startsArgument(word.text, next: next)
      {
        merged[merged.count - 1].text += " " + word.text
      } else {
        merged.append(word)
      }
    }
    tokens = merged
  }

  func text(at index: Int) -> String? {
    tokens.indices.contains(index) ? tokens[index].text : nil
  }

  /// The argument that `byteOffset` falls in (the last one starting at or before it).
  func index(containing byteOffset: Int) -> Int {
    max(0, (tokens.lastIndex { $0.byteOffset <= byteOffset }) ?? 0)
  }

  /// `[+|-]SIZE[f]@…`, or `[+|-]SIZE[f]` before a word starting with `@`.
  private static func startsArgument(_ word: String, next: String?) -> Bool {
    if let at = word.firstIndex(of: "@") { return isSizePrefix(word[..<at]) }
    return isSizePrefix(word[...]) && next?.hasPrefix("@") == true
  }

  private static func isSizePrefix(_ text: Substring) -> Bool {
    var rest = text
    if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
    if rest.last == "f" { rest = rest.dropLast() }
    return !rest.isEmpty && rest.allSatisfy { ("0"..."9").contains($0) }
  }
}

// MARK: - Text

extension FileCheck {
  func printText() {
    let siteWord = sites.count == 1 ? "site" : "sites"
    print("\(path): \(arch ?? "unknown architecture"), \(sites.count) probe \(siteWord)")
    print("  ours reads arguments with \(header.name) (\(header.object))")
    let labels = sites.map { "\($0.provider):\($0.name) pc=\(hex($0.address))" }
    let width = max(labels.map(\.count).max() ?? 0, 4)
    let columns = ["ours"] + LibbpfRelease.allCases.map(\.name)
    let columnWidth = columns.map(\.count).max() ?? 0
    func row(_ label: String, _ cells: [String]) -> String {
      "  " + label.padding(width) + "  " + cells.map { $0.padding(columnWidth) }.joined(separator: "  ")
    }
    print(row("", columns))
    for (site, label) in zip(sites, labels) {
      let verdicts = [("ours", site.ours)] + LibbpfRelease.allCases.map { ($0.name, site.verdict($0)) }
      print(row(label, verdicts.map(\.1.mark)))
      // Per argument: every implementation that cannot read it.
      let indices = Set(verdicts.flatMap { $0.1.unreadable.map(\.index) }).sorted()
      for index in indices {
        let operand = verdicts.lazy.compactMap { $0.1.unreadable.first { $0.index == index }?.operand }.first ?? ""
        print("    arg\(index) \(operand)")
        for (name, verdict) in verdicts {
          guard let note = verdict.unreadable.first(where: { $0.index == index }) else { continue }
          if name == "ours" {
            let errno = note.errno.map { ", bpf_usdt_arg() returns -\($0)" } ?? ""
            print("      \(name): unreadable\(errno): \(note.reason)")
          } else {
            print("      \(name): \(note.errno ?? "refused"): \(note.reason)")
          }
        }
      }
      // Why a probe is refused, when that is not one of the arguments listed above.
      for (name, verdict) in verdicts where !verdict.attaches {
        // An argument of this very site is already listed above.
        let isListed = verdict.unreadable.contains { verdict.reason?.hasPrefix("argument \($0.index) (") == true }
        if !isListed, let reason = verdict.reason { print("    \(name) refuses the probe: \(reason)") }
      }
    }
    let totals = [("ours", sites.filter(\.ours.attaches).count)]
      + LibbpfRelease.allCases.map { release in (release.name, sites.filter { $0.verdict(release).attaches }.count) }
    print("  attach: " + totals.map { "\($0.0) \($0.1)/\(sites.count)" }.joined(separator: ", "))
    for note in malformedNotes { print("  malformed note: \(note)") }
  }
}

extension String {
  /// Pads with spaces to `width` characters.
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// The C name of an errno value (`ENOENT`), which people search for.
func errnoName(_ code: Int32) -> String {
  let names: [Int32: String] = [
    EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
    E2BIG: "E2BIG", EBADF: "EBADF", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
    EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL", EMFILE: "EMFILE", ENOSPC: "ENOSPC",
    ENODATA: "ENODATA", EOPNOTSUPP: "EOPNOTSUPP", ENXIO: "ENXIO", ENOEXEC: "ENOEXEC",
  ]
  return names[code] ?? "errno \(code)"
}
