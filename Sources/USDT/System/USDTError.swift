import SystemPackage

/// The one error type of the library, thrown typed.
///
/// Callers switch on ``kind``; people read ``description``. Each layer fills in only the
/// context it knows: the parser the argument index and text, the attacher the binary and probe.
public struct USDTError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, for programs to switch on.
  public enum Kind: Sendable, Hashable {
    /// The file is not an ELF file we can read, or a header, section or segment is inconsistent.
    case malformedELF
    /// One `.note.stapsdt` note is malformed; other notes are still usable.
    case malformedNote
    /// An argument string does not follow `[-]SIZE[f]@OPERAND`, or its operand is unknown.
    case unsupportedOperand
    /// An operand names a register the architecture does not have (or one a uprobe cannot read).
    case unknownRegister
    /// The file has no probe `provider:name`.
    case probeNotFound
    /// An address from a note lies in no suitable `PT_LOAD` segment.
    case addressNotMapped
    /// The spec table of the BPF object has no free slot.
    case specMapFull
    /// The BPF object does not carry the USDT support maps or their BTF is not a layout we know.
    case incompatibleBPFObject
    /// The architecture has no argument parser, or the host cannot attach to this file.
    case unsupportedArchitecture
    /// Attaching needs privileges this process lacks.
    case permissionDenied
    /// The kernel lacks a feature this attach needs.
    case kernelLacks(String)
    /// The target process does not exist.
    case noSuchProcess
    /// A system call failed for another reason; see ``errno``.
    case systemCall
    /// The caller passed an argument that cannot work (bad pid, empty name, …).
    case invalidArgument
  }

  public var kind: Kind
  /// What failed, in a few words ("perf_event_open", "note 3 has namesz 9").
  public var message: String
  /// The system error, when a system call failed.
  public var errno: Errno?
  /// Which file.
  public var binary: String?
  /// `provider:name`.
  public var probe: String?
  /// Which argument, 0-based.
  public var argument: Int?
  /// The offending text, verbatim.
  public var input: String?
  /// What the user can do about it.
  public var hint: String?

  public init(
    _ kind: Kind, _ message: String, errno: Errno? = nil, binary: String? = nil,
    probe: String? = nil, argument: Int? = nil, input: String? = nil, hint: String? = nil
  ) {
    self.kind = kind
    self.message = message
    self.errno = errno
    self.binary = binary
    self.probe = probe
    self.argument = argument
    self.input = input
    self.hint = hint
  }

  /// Fills in context fields that are still empty; never overwrites what a deeper layer knew.
  public func adding(
    binary: String? = nil, probe: String? = nil, argument: Int? = nil, hint: String? = nil
  ) -> USDTError {
    var copy = self
    if copy.binary == nil { copy.binary = binary }
    if copy.probe == nil { copy.probe = probe }
    if copy.argument == nil { copy.argument = argument }
    if copy.hint == nil { copy.hint = hint }
    return copy
  }

  public var description: String {
    var where_: [String] = []
    if let probe { where_.append(probe) }
    if let binary { where_.append("in \(binary)") }
    if let argument { where_.append("argument \(argument)") }
    var text = where_.isEmpty ? "" : where_.joined(separator: " ") + ": "
    text += message
    if let input { text += " (\"\(input)\")" }
    if let errno { text += ": \(errno.description) (\(errno.symbolicName))" }
    if let hint { text += ". \(hint)" }
    return text
  }
}

extension Errno {
  /// The C name of the error (`EPERM`), which people search for.
  var symbolicName: String {
    switch self {
    case .notPermitted: "EPERM"
    case .noSuchFileOrDirectory: "ENOENT"
    case .noSuchProcess: "ESRCH"
    case .interrupted: "EINTR"
    case .ioError: "EIO"
    case .argListTooLong: "E2BIG"
    case .badFileDescriptor: "EBADF"
    case .noMemory: "ENOMEM"
    case .permissionDenied: "EACCES"
    case .badAddress: "EFAULT"
    case .resourceBusy: "EBUSY"
    case .fileExists: "EEXIST"
    case .invalidArgument: "EINVAL"
    case .tooManyOpenFiles: "EMFILE"
    case .notSupported: "EOPNOTSUPP"
    case .noSuchAddressOrDevice: "ENXIO"
    default: "errno \(rawValue)"
    }
  }
}
