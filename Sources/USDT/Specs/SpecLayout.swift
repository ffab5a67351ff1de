import CLibBPF
import Glibc

/// Where each field of `struct __bpf_usdt_spec` lives, as the BPF object's own BTF describes it.
///
/// The layout belongs to whichever `usdt.bpf.h` the program was compiled against (208 bytes in
/// libbpf ≤ 1.6, 304 bytes with SIB bitfields in 1.7), and no version marker is stored, so the
/// only safe encoder is one that writes each field at the bit offset BTF gives.
struct SpecLayout: Sendable, Equatable {
  /// A field's position, in bits from the start of its struct.
  struct Field: Sendable, Equatable {
    var bitOffset: Int
    var bitCount: Int
  }

  var specSize: Int
  var argsOffset: Int
  var argStride: Int
  var maxArguments: Int
  var cookie: Field
  var argCount: Field

  var valueOffset: Field
  var argType: Field
  var registerOffset: Field
  var isSigned: Field
  var bitShift: Field
  /// Present when the header can read SIB operands (libbpf ≥ 1.7, ours).
  var indexRegisterOffset: Field?
  var scaleBitShift: Field?
  /// Per-argument flags (ours only): bit 0 marks a float.
  var argFlags: Field?

  var constantKind: Int64
  var registerKind: Int64
  var dereferenceKind: Int64
  var sibKind: Int64?
  /// The type written for an argument that cannot be read: ours has `BPF_USDT_ARG_UNAVAILABLE`;
  /// libbpf's headers get a value outside their enum, which their decoder refuses (`-EINVAL`).
  var unavailableKind: Int64

  static let floatFlag: Int64 = 1

  var supportsSIB: Bool { sibKind != nil && indexRegisterOffset != nil && scaleBitShift != nil }

  /// A short name for messages: which header the object was built against.
  var headerName: String {
    argFlags != nil ? "SwiftUSDT's usdt.bpf.h" : supportsSIB ? "libbpf ≥ 1.7 usdt.bpf.h" : "libbpf ≤ 1.6 usdt.bpf.h"
  }
}

extension SpecLayout {
  /// Reads the layout from `btf` and checks it against the spec map's value size.
  ///
  /// - Throws: `.incompatibleBPFObject` if a struct, member or enum value is missing, or sizes disagree.
  init(btf: OpaquePointer, mapValueSize: Int, objectPath: String) throws(USDTError) {
    let reader = BTFReader(btf: btf, objectPath: objectPath)
    let spec = try reader.structure(named: BPFNames.specStruct)
    let arg = try reader.structure(named: BPFNames.argSpecStruct)
    guard spec.size == mapValueSize else {
      throw reader.error(
        "\(BPFNames.specStruct) is \(spec.size) bytes but \(BPFNames.specsMap) holds \(mapValueSize)-byte values"
      )
    }
    let args = try reader.member(BPFNames.SpecField.args, of: spec)
    guard let array = reader.arrayShape(of: args.typeID), array.elementSize == arg.size,
      array.count > 0
    else {
      throw reader.error("\(BPFNames.specStruct).args is not an array of \(BPFNames.argSpecStruct)")
    }
    specSize = spec.size
    argsOffset = args.field.bitOffset / 8
    argStride = arg.size
    maxArguments = array.count
    cookie = try reader.member(BPFNames.SpecField.cookie, of: spec).field
    argCount = try reader.member(BPFNames.SpecField.argCount, of: spec).field
    valueOffset = try reader.member(BPFNames.ArgField.valueOffset, of: arg).field
    argType = try reader.member(BPFNames.ArgField.type, of: arg).field
    registerOffset = try reader.member(BPFNames.ArgField.registerOffset, of: arg).field
    isSigned = try reader.member(BPFNames.ArgField.isSigned, of: arg).field
    bitShift = try reader.member(BPFNames.ArgField.bitShift, of: arg).field
    indexRegisterOffset = try? reader.member(BPFNames.ArgField.indexRegisterOffset, of: arg).field
    scaleBitShift = try? reader.member(BPFNames.ArgField.scaleBitShift, of: arg).field
    argFlags = try? reader.member(BPFNames.ArgField.flags, of: arg).field

    let kinds = try reader.enumValues(named: BPFNames.argTypeEnum)
    func kind(_ name: String) throws(USDTError) -> Int64 {
      guard let value = kinds[name] else {
        throw reader.error("enum \(BPFNames.argTypeEnum) has no \(name)")
      }
      return value
    }
    constantKind = try kind(BPFNames.ArgType.constant)
    registerKind = try kind(BPFNames.ArgType.register)
    dereferenceKind = try kind(BPFNames.ArgType.dereference)
    sibKind = kinds[BPFNames.ArgType.sib]
    // 0x7f fits every arg_type width (an 8-bit bitfield in libbpf 1.7) and no header uses it.
    unavailableKind = kinds[BPFNames.ArgType.unavailable] ?? 0x7f
  }
}

/// A thin, checked view of libbpf's BTF accessors: structs, members, arrays and enums by name.
private struct BTFReader {
  let btf: OpaquePointer
  let objectPath: String

  struct Structure {
    var pointer: UnsafePointer<btf_type>
    var size: Int
    var name: String
  }
  struct Member {
    var field: SpecLayout.Field
    var typeID: UInt32
  }

  func error(_ message: String) -> USDTError {
    USDTError(
      .incompatibleBPFObject, message, binary: objectPath,
      hint: "The object must be built against a usdt.bpf.h this library knows (libbpf 1.1–1.7)")
  }

  func structure(named name: String) throws(USDTError) -> Structure {
    let id = btf__find_by_name_kind(btf, name, UInt32(BTF_KIND_STRUCT))
    guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else {
      throw USDTError(
        .incompatibleBPFObject, "BTF has no struct \(name)", binary: objectPath,
        hint: BPFNames.includeHint)
    }
    return Structure(pointer: type, size: Int(type.pointee.size), name: name)
  }

  func member(_ name: String, of structure: Structure) throws(USDTError) -> Member {
    let type = structure.pointer
    let members = btf_members(type)
    for index in 0..<UInt32(btf_vlen(type)) {
      guard let member = members?[Int(index)],
        let cName = btf__name_by_offset(btf, member.name_off), String(cString: cName) == name
      else { continue }
      let bitOffset = Int(btf_member_bit_offset(type, index))
      var bitCount = Int(btf_member_bitfield_size(type, index))
      if bitCount == 0 {
        let size = btf__resolve_size(btf, member.type)
        guard size > 0 else { throw error("cannot size \(structure.name).\(name)") }
        bitCount = Int(size) * 8
      }
      return Member(field: .init(bitOffset: bitOffset, bitCount: bitCount), typeID: member.type)
    }
    throw error("\(structure.name) has no member \(name)")
  }

  func arrayShape(of typeID: UInt32) -> (count: Int, elementSize: Int)? {
    let resolved = btf__resolve_type(btf, typeID)
    guard resolved > 0, let type = btf__type_by_id(btf, UInt32(resolved)), btf_is_array(type),
      let array = btf_array(type)?.pointee
    else { return nil }
    let elementSize = btf__resolve_size(btf, array.type)
    guard elementSize > 0 else { return nil }
    return (Int(array.nelems), Int(elementSize))
  }

  func enumValues(named name: String) throws(USDTError) -> [String: Int64] {
    let id = btf__find_by_name_kind(btf, name, UInt32(BTF_KIND_ENUM))
    guard id > 0, let type = btf__type_by_id(btf, UInt32(id)), let values = btf_enum(type) else {
      throw error("BTF has no enum \(name)")
    }
    var result: [String: Int64] = [:]
    for index in 0..<Int(btf_vlen(type)) {
      let value = values[index]
      if let cName = btf__name_by_offset(btf, value.name_off) {
        result[String(cString: cName)] = Int64(value.val)
      }
    }
    return result
  }
}

extension SpecLayout {
  /// Reads the layout from the BTF of a BPF object file without loading it (no privilege
  /// needed); `usdt check` and the unit tests use it.
  init(objectFile path: String, mapValueSize: Int? = nil) throws(USDTError) {
    guard let btf = btf__parse(path, nil) else {
      throw USDTError(
        .incompatibleBPFObject, "cannot read BTF", errno: .init(rawValue: errno), binary: path,
        hint: BPFNames.includeHint)
    }
    defer { btf__free(btf) }
    let reader = BTFReader(btf: btf, objectPath: path)
    var size = mapValueSize ?? 0
    if mapValueSize == nil { size = try reader.structure(named: BPFNames.specStruct).size }
    try self.init(btf: btf, mapValueSize: size, objectPath: path)
  }
}
