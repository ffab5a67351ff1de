/// One probe site of a binary: a `.note.stapsdt` note, located in the file and with its
/// arguments parsed.
///
/// A probe name (`provider:name`) can have many sites (one note each) when the probe macro is
/// inlined or expanded repeatedly; each site has its own address, semaphore and argument string.
public struct Probe: Sendable {
  /// The note as written in the file.
  public let note: StapsdtNote
  /// The link-time address of the site, after the `.stapsdt.base` prelink adjustment.
  public let address: UInt64
  /// Where the uprobe goes: the file offset of ``address`` (through its executable `PT_LOAD`).
  public let fileOffset: UInt64?
  /// The semaphore's link-time address (adjusted like ``address``), or `nil` without one.
  public let semaphoreAddress: UInt64?
  /// The semaphore's file offset, which the kernel counts on (`ref_ctr_offset`).
  public let semaphoreOffset: UInt64?
  /// The parsed arguments, or `nil` when the string as a whole could not be parsed (see
  /// ``problems``). An argument that cannot be read has operand ``Operand/unavailable(reason:)``.
  public let arguments: [ArgumentSpec]?
  /// Why each unavailable argument cannot be read; such a probe still attaches.
  public let unavailableArguments: [USDTError]
  /// Why this site cannot be attached, if it cannot; empty when it can.
  public let problems: [USDTError]

  public var provider: String { note.provider }
  public var name: String { note.name }
  /// `provider:name`.
  public var qualifiedName: String { "\(note.provider):\(note.name)" }
  /// Whether every part needed to attach was found.
  public var isAttachable: Bool { problems.isEmpty && fileOffset != nil && arguments != nil }

  init(note: StapsdtNote, in file: ELFFile) {
    let sectionBase = file.stapsdtBaseAddress
    var problems: [USDTError] = []
    let context = { (error: USDTError) in
      error.adding(binary: file.path, probe: "\(note.provider):\(note.name)")
    }
    self.note = note
    address = note.adjustedPC(sectionBase: sectionBase)
    do {
      fileOffset = try file.fileOffset(ofCode: address)
    } catch {
      fileOffset = nil
      problems.append(context(error))
    }
    if note.semaphore != 0 {
      let semaphore = note.adjustedSemaphore(sectionBase: sectionBase)
      semaphoreAddress = semaphore
      do {
        semaphoreOffset = try file.fileOffset(ofData: semaphore)
      } catch {
        semaphoreOffset = nil
        problems.append(context(error))
      }
    } else {
      semaphoreAddress = nil
      semaphoreOffset = nil
    }
    var unavailable: [USDTError] = []
    if let architecture = file.architecture {
      do {
        let parsed = try ArgumentParsing.parseEach(note.arguments, architecture: architecture)
        arguments = parsed.specs
        unavailable = parsed.unavailable.map(context)
      } catch {
        arguments = nil
        problems.append(context(error))
      }
    } else if note.arguments.isEmpty {
      arguments = []
    } else {
      arguments = nil
      problems.append(
        context(
          USDTError(
            .unsupportedArchitecture, "no argument parser for ELF machine \(file.machine)")))
    }
    self.problems = problems
    self.unavailableArguments = unavailable
  }
}

/// Every probe site of one file, in note order, plus the notes that could not be read.
public struct ProbeList: Sendable {
  /// The file, with its headers read.
  public let file: ELFFile
  /// One entry per readable note, in note order.
  public let probes: [Probe]
  /// Notes that are malformed; they do not hide the good ones.
  public let malformedNotes: [USDTError]

  /// Reads the notes of `path` and locates and parses every probe.
  ///
  /// - Throws: `.malformedELF` (not an ELF file, or broken headers) or `.systemCall` (cannot
  ///   open or read the file). Problems with single notes land in ``malformedNotes`` or in
  ///   the probe's ``Probe/problems``.
  public init(path: String) throws(USDTError) {
    try self.init(file: ELFFile(path: path))
  }

  public init(file: ELFFile) throws(USDTError) {
    self.file = file
    let (notes, problems) = try file.stapsdtNotes()
    probes = notes.map { Probe(note: $0, in: file) }
    malformedNotes = problems
  }

  /// The sites of `provider:name`, in note order.
  public func sites(provider: String, name: String) -> [Probe] {
    probes.filter { $0.note.provider == provider && $0.note.name == name }
  }
}
