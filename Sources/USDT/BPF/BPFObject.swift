import CLibBPF
import CUSDTShims
import Glibc
import Synchronization

/// A BPF object file (`.bpf.o`), opened and loaded into the kernel by libbpf.
///
/// libbpf is only the loader here: it creates the maps and loads the programs. Everything
/// USDT (notes, specs, attach) is done by this library. The object owns one ``SpecAllocator``
/// shared by every link made from its programs, since the spec map is per object. Links keep
/// the object alive, so closing an object under a live link cannot pull maps out from under it.
public final class BPFObject: @unchecked Sendable {
  let handle: OpaquePointer
  /// The file the object was loaded from.
  public let path: String
  /// The object's USDT support (spec map, IP map, layout), found on first use.
  private let support = Mutex<Result<USDTSupport, USDTError>?>(nil)

  /// How this object's USDT programs attach; fixed at load time.
  public let backend: AttachBackend
  /// How this object's programs find a site's spec; fixed at load time.
  public let specLookup: SpecLookup
  /// Whether a probe with an unreadable argument is refused (libbpf's behaviour).
  public let rejectsUnreadableArguments: Bool

  /// How to prepare an object before it is loaded.
  public struct Options: Sendable {
    /// Entries of `__bpf_usdt_specs`; `nil` keeps what the object declares (256 with libbpf's header).
    public var specCapacity: Int?
    /// Forces a backend; `nil` takes the best the kernel offers (uprobe_multi when it works).
    public var backend: AttachBackend?
    /// Forces a spec lookup; `nil` uses cookies when the kernel has them. `.ipMap` implies the
    /// per-site backend, as in libbpf.
    public var specLookup: SpecLookup?
    /// Refuse a probe when one of its arguments cannot be read, as libbpf does. By default the
    /// probe attaches and only that argument fails to read (``ProbeLink/unavailableArguments``).
    public var rejectsUnreadableArguments: Bool

    public init(
      specCapacity: Int? = nil, backend: AttachBackend? = nil, specLookup: SpecLookup? = nil,
      rejectsUnreadableArguments: Bool = false
    ) {
      self.specCapacity = specCapacity
      self.backend = backend
      self.specLookup = specLookup
      self.rejectsUnreadableArguments = rejectsUnreadableArguments
    }
  }

  /// Opens and loads `path`.
  ///
  /// - Throws: `.systemCall` (with errno) when libbpf cannot open or load it; `.permissionDenied`
  ///   without `CAP_BPF`.
  public convenience init(path: String, options: Options = Options()) throws(USDTError) {
    guard let handle = bpf_object__open_file(path, nil) else {
      let code = Glibc.errno
      throw USDTError(
        code == ENOENT ? .invalidArgument : .systemCall, "cannot open BPF object",
        errno: .init(rawValue: code), binary: path)
    }
    try self.init(opened: handle, path: path, options: options)
  }

  /// Takes an object libbpf has opened but not loaded, prepares it for `options` and loads it;
  /// `path` names it in messages. `handle` is closed when it throws (by `deinit`).
  init(opened handle: OpaquePointer, path: String, options: Options) throws(USDTError) {
    self.handle = handle
    self.path = path
    rejectsUnreadableArguments = options.rejectsUnreadableArguments
    specLookup = options.specLookup ?? (KernelFeatures.hasBPFCookie ? .cookie : .ipMap)
    backend =
      specLookup == .ipMap
      ? .perfEvent : options.backend ?? (KernelFeatures.hasUprobeMulti ? .uprobeMulti : .perfEvent)
    do throws(USDTError) {
      if backend == .uprobeMulti {
        // The kernel accepts a uprobe_multi link only for programs loaded for it.
        var current = bpf_object__next_program(handle, nil)
        while let program = current {
          if String(cString: bpf_program__section_name(program)).hasPrefix("usdt") {
            bpf_program__set_expected_attach_type(
              program, bpf_attach_type(rawValue: UInt32(CUSDT_BPF_TRACE_UPROBE_MULTI)))
          }
          current = bpf_object__next_program(handle, program)
        }
      }
      if let capacity = options.specCapacity {
        guard let map = bpf_object__find_map_by_name(handle, BPFNames.specsMap) else {
          throw USDTError(
            .incompatibleBPFObject, "no \(BPFNames.specsMap) map to resize", binary: path,
            hint: BPFNames.includeHint)
        }
        _ = try Syscalls.valueOrErrno("bpf_map__set_max_entries") {
          bpf_map__set_max_entries(map, UInt32(clamping: capacity))
        }
      }
      _ = try Syscalls.valueOrErrno("bpf_object__load") { bpf_object__load(handle) }
    } catch {
      // Every stored property is set, so throwing runs `deinit`, which closes `handle`;
      // closing it here too was a double free.
      throw error.adding(
        binary: path,
        hint: error.kind == .permissionDenied
          ? "Run as root or grant CAP_BPF and CAP_PERFMON" : nil)
    }
  }

  deinit { bpf_object__close(handle) }

  /// The program called `name` (its C function name).
  ///
  /// - Throws: `.invalidArgument` when the object has no such program.
  public func program(named name: String) throws(USDTError) -> BPFProgram {
    guard let program = bpf_object__find_program_by_name(handle, name) else {
      throw USDTError(
        .invalidArgument, "no program \"\(name)\"", binary: path,
        hint: "Programs are named after their C functions")
    }
    return BPFProgram(object: self, handle: program)
  }

  /// Every program in the object, in section order.
  public var programs: [BPFProgram] {
    var result: [BPFProgram] = []
    var current = bpf_object__next_program(handle, nil)
    while let program = current {
      result.append(BPFProgram(object: self, handle: program))
      current = bpf_object__next_program(handle, program)
    }
    return result
  }

  /// The map called `name`, for reading results a program stored.
  public func map(named name: String) throws(USDTError) -> BPFMap {
    guard let map = bpf_object__find_map_by_name(handle, name) else {
      throw USDTError(.invalidArgument, "no map \"\(name)\"", binary: path)
    }
    return BPFMap(object: self, handle: map)
  }

  /// The USDT maps and spec layout of this object, read once from its BTF.
  func usdtSupport() throws(USDTError) -> USDTSupport {
    let result = support.withLock { cached in
      if let cached { return cached }
      let found = Result { () throws(USDTError) in try USDTSupport(object: self) }
      cached = found
      return found
    }
    return try result.get()
  }
}

/// A program inside a loaded ``BPFObject``.
public struct BPFProgram: @unchecked Sendable {
  /// The object that owns the program; kept alive by every link made from it.
  public let object: BPFObject
  let handle: OpaquePointer

  /// The program's C function name.
  public var name: String { String(cString: bpf_program__name(handle)) }
  /// Its ELF section, e.g. `usdt` or `usdt/./app:provider:name`.
  public var sectionName: String { String(cString: bpf_program__section_name(handle)) }
  /// The kernel fd of the loaded program; owned by the object.
  var fd: CInt { bpf_program__fd(handle) }
}

/// A map inside a loaded ``BPFObject``.
public struct BPFMap: @unchecked Sendable {
  public let object: BPFObject
  let handle: OpaquePointer

  public var name: String { String(cString: bpf_map__name(handle)) }
  public var valueSize: Int { Int(bpf_map__value_size(handle)) }
  public var keySize: Int { Int(bpf_map__key_size(handle)) }
  public var maxEntries: Int { Int(bpf_map__max_entries(handle)) }
  var fd: CInt { bpf_map__fd(handle) }

  /// The value stored under a 4-byte integer key (ARRAY maps), as raw bytes.
  public func value(at index: UInt32) throws(USDTError) -> [UInt8] {
    try Syscalls.lookupMapElement(map: fd, key: index.littleEndianBytes, valueSize: valueSize)
  }
}

extension FixedWidthInteger {
  /// The value's bytes in little-endian order (BPF objects here are built for the host, `bpfel`).
  var littleEndianBytes: [UInt8] {
    withUnsafeBytes(of: self.littleEndian) { Array($0) }
  }
}

extension BPFMap {
  /// Replaces the value under a 4-byte integer key (ARRAY maps).
  public func setValue(_ bytes: [UInt8], at index: UInt32) throws(USDTError) {
    try Syscalls.updateMapElement(map: fd, key: index.littleEndianBytes, value: bytes, flags: 0)
  }
}
