import CLibBPF
import Glibc
import SystemPackage

/// Which arguments a BPF program can read, given the `usdt.bpf.h` it was compiled against.
///
/// An attach writes one spec per argument string in the layout of the object's header. An
/// argument that header cannot decode (base+index*scale before libbpf 1.7, a symbol that is not
/// in the file's symbol table, a vector register) is written as unavailable, and
/// `bpf_usdt_arg()` fails for that argument alone. This answers the same question without
/// attaching and without privilege: the header is read from the object's BTF, and the
/// arguments go through the checks an attach makes (``SpecEncoder``, ``SymbolResolver``).
/// `usdt check` prints it.
public struct HeaderCompatibility: Sendable {
  let layout: SpecLayout
  /// The object the header was read from (its path, or the name given for bytes).
  public let objectName: String

  /// Reads the header's layout from a BPF object file's BTF.
  ///
  /// - Throws: `.incompatibleBPFObject` when the object has no BTF or no USDT spec struct.
  public init(objectFile path: String) throws(USDTError) {
    layout = try SpecLayout(objectFile: path)
    objectName = path
  }

  /// Reads the header's layout from a BPF object held in memory, opened but not loaded (no
  /// privilege needed).
  ///
  /// - Throws: `.invalidArgument` when libbpf cannot open the bytes, `.incompatibleBPFObject`
  ///   when the object lacks the USDT spec map or its BTF.
  public init(objectBytes bytes: [UInt8], name: String) throws(USDTError) {
    let opened = BPFObject.open(bytes: bytes, name: name)
    guard let handle = opened.handle else {
      throw USDTError(
        .invalidArgument, "cannot open BPF object from memory", errno: Errno(rawValue: opened.errno),
        binary: name)
    }
    defer { bpf_object__close(handle) }
    guard let specs = bpf_object__find_map_by_name(handle, BPFNames.specsMap) else {
      throw USDTError(
        .incompatibleBPFObject, "the BPF object has no \(BPFNames.specsMap) map", binary: name,
        hint: BPFNames.includeHint)
    }
    guard let btf = bpf_object__btf(handle) else {
      throw USDTError(
        .incompatibleBPFObject, "the BPF object has no BTF", binary: name,
        hint: BPFNames.includeHint)
    }
    layout = try SpecLayout(
      btf: btf, mapValueSize: Int(bpf_map__value_size(specs)), objectPath: name)
    objectName = name
  }

  /// The header of a loaded object, as its attaches will use it.
  ///
  /// - Throws: `.incompatibleBPFObject` when the object lacks USDT support.
  public init(object: BPFObject) throws(USDTError) {
    layout = try object.usdtSupport().layout
    objectName = object.path
  }

  /// A short name for the header: `libbpf ≤ 1.6 usdt.bpf.h`, `libbpf ≥ 1.7 usdt.bpf.h` or
  /// `SwiftUSDT's usdt.bpf.h`.
  public var headerName: String { layout.headerName }

  /// Whether base+index*scale operands can be read (libbpf ≥ 1.7 and SwiftUSDT's header).
  public var readsIndexedOperands: Bool { layout.supportsSIB }

  /// Whether float arguments are marked as such in the spec (SwiftUSDT's header only); with
  /// other headers their raw bits are read all the same.
  public var marksFloats: Bool { layout.argFlags != nil }

  /// What `bpf_usdt_arg()` returns (negated) for an argument written as unavailable: `ENODATA`
  /// with SwiftUSDT's header, `EINVAL` with libbpf's, whose decoder refuses the unknown type.
  public var unavailableErrno: Errno {
    layout.unavailableKind == 0x7f ? .invalidArgument : Errno(rawValue: ENODATA)
  }

  /// The arguments of each probe that a program built against this header cannot read, as an
  /// attach to them would find them, in argument order; `[]` for a probe whose arguments are
  /// all readable.
  ///
  /// Symbol-relative operands are first resolved through `file`'s symbol table, as an attach
  /// does; a parse error already recorded in ``Probe/unavailableArguments`` is reported as is.
  /// Each error carries ``USDTError/argument`` and ``USDTError/input``.
  ///
  /// - Parameter probes: sites of `file` (from its ``ProbeList``).
  public func unreadableArguments(of probes: [Probe], in file: ELFFile) -> [[USDTError]] {
    var symbols: SymbolResolver?
    return probes.map { probe in
      var arguments = probe.arguments ?? []
      if arguments.contains(where: \.operand.isSymbol) {
        if symbols == nil { symbols = SymbolResolver(file: file) }
        arguments = symbols?.resolve(arguments, at: probe.address) ?? arguments
      }
      return arguments.enumerated().compactMap { index, argument in
        guard let reason = SpecEncoder.unreadableReason(argument.operand, layout: layout) else {
          return nil
        }
        if let parsed = probe.unavailableArguments.first(where: { $0.argument == index }) {
          return parsed
        }
        return USDTError(
          .unsupportedOperand, reason, binary: file.path, probe: probe.qualifiedName,
          argument: index, input: argument.text)
      }
    }
  }
}
