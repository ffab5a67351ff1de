import USDT

/// The JSON shape of `usdt list --json`: one object per file.
struct FileListing: Encodable {
  var path: String
  var arch: String?
  var machine: UInt16
  var elfClass: Int
  var endianness: String
  var elfType: String
  var probes: [ProbeListing]
  var malformedNotes: [String]

  enum CodingKeys: String, CodingKey {
    case path, arch, machine, endianness, probes
    case elfClass = "elf_class"
    case elfType = "elf_type"
    case malformedNotes = "malformed_notes"
  }

  init(_ list: ProbeList) {
    let file = list.file
    path = file.path
    arch = file.architecture?.rawValue
    machine = file.machine
    elfClass = file.is64Bit ? 64 : 32
    endianness = file.byteOrder.rawValue
    elfType = file.isSharedObjectOrPIE ? "dyn" : "exec"
    probes = list.probes.map(ProbeListing.init)
    malformedNotes = list.malformedNotes.map(\.description)
  }
}

/// One note: the raw fields as written, where it lands in the file, and its decoded arguments.
struct ProbeListing: Encodable {
  var provider: String
  var name: String
  var pc: UInt64
  var base: UInt64
  var semaphore: UInt64
  var args: String
  var address: UInt64
  var fileOffset: UInt64?
  var semaphoreOffset: UInt64?
  var arguments: [ArgumentListing]
  var attachable: Bool
  var problems: [String]

  enum CodingKeys: String, CodingKey {
    case provider, name, pc, base, semaphore, args, address, arguments, attachable, problems
    case fileOffset = "file_offset"
    case semaphoreOffset = "semaphore_offset"
  }

  init(_ probe: Probe) {
    provider = probe.provider
    name = probe.name
    pc = probe.note.pc
    base = probe.note.base
    semaphore = probe.note.semaphore
    args = probe.note.arguments
    address = probe.address
    fileOffset = probe.fileOffset
    semaphoreOffset = probe.semaphoreOffset
    arguments = (probe.arguments ?? []).map(ArgumentListing.init)
    attachable = probe.isAttachable
    problems = probe.problems.map(\.description)
  }
}

/// One argument: the note's fields plus the decoded location.
struct ArgumentListing: Encodable {
  var size: Int
  var signed: Bool
  var float: Bool
  var operand: String
  var kind: String
  var register: String?
  var registerOffset: Int?
  var index: String?
  var indexOffset: Int?
  var scale: Int?
  var offset: Int64?
  var value: Int64?
  var symbol: String?
  var reason: String?

  enum CodingKeys: String, CodingKey {
    case size, signed, float, operand, kind, register, index, scale, offset, value, symbol, reason
    case registerOffset = "register_offset"
    case indexOffset = "index_offset"
  }

  init(_ argument: ArgumentSpec) {
    size = argument.size
    signed = argument.isSigned
    float = argument.isFloat
    operand = argument.text
    switch argument.operand {
    case .constant(let constant):
      kind = "constant"
      value = constant
    case .register(let reg):
      kind = "register"
      register = reg.name
      registerOffset = reg.offset
    case .memory(let base, let displacement):
      kind = "memory"
      register = base.name
      registerOffset = base.offset
      offset = displacement
    case .indexed(let base, let idx, let factor, let displacement):
      kind = "indexed"
      register = base?.name
      registerOffset = base?.offset
      index = idx.name
      indexOffset = idx.offset
      scale = factor
      offset = displacement
    case .symbol(let name, let displacement):
      kind = "symbol"
      symbol = name
      offset = displacement
    case .unavailable(let why):
      kind = "unavailable"
      reason = why
    }
  }
}

extension ArgumentSpec {
  /// A C-like type name: `int32`, `uint8`, `double`.
  var typeName: String {
    if isFloat { return size == 4 ? "float" : size == 8 ? "double" : "float\(size * 8)" }
    return (isSigned ? "int" : "uint") + String(size * 8)
  }

  /// Where the value is read from, in words.
  var locationDescription: String {
    func signed(_ value: Int64) -> String { value < 0 ? " - \(value.magnitude)" : " + \(value)" }
    switch operand {
    case .constant(let value): return "constant \(value)"
    case .register(let register): return "register \(register.name)"
    case .memory(let base, let offset): return "memory [\(base.name)\(offset == 0 ? "" : signed(offset))]"
    case .indexed(let base, let index, let scale, let offset):
      let basePart = base.map { "\($0.name) + " } ?? ""
      return "memory [\(basePart)\(index.name)*\(scale)\(offset == 0 ? "" : signed(offset))]"
    case .symbol(let name, let offset):
      return "memory [\(name)\(offset == 0 ? "" : signed(offset))]"
    case .unavailable(let reason):
      return "unavailable (\(text): \(reason))"
    }
  }
}
