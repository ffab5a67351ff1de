import Glibc

/// The memory mappings of one process, from `/proc/PID/maps`.
///
/// Needed where a file offset must become a run-time address in a process: reading a
/// semaphore, and keys of the no-cookie IP → spec-ID map for position-independent files.
public struct ProcessMaps: Sendable {
  /// One line of `/proc/PID/maps`.
  public struct Mapping: Sendable, Hashable {
    public var start: UInt64
    public var end: UInt64
    public var permissions: String
    /// File offset of `start` (`pgoff`).
    public var fileOffset: UInt64
    public var path: String

    public var isExecutable: Bool { permissions.dropFirst(2).first == "x" }
    public var isWritable: Bool { permissions.dropFirst(1).first == "w" }
  }

  /// Which mapping of a file an address is wanted in. One file page can be mapped twice (lld's
  /// `-z noseparate-code` maps the RELRO and the data page from one file page), so the kind of
  /// mapping decides the answer.
  public enum MappingKind: Sendable {
    /// Executable mappings: probe sites.
    case code
    /// Writable private mappings, where the kernel counts semaphores (`valid_ref_ctr_vma`).
    case data
  }

  public let pid: pid_t
  public let mappings: [Mapping]

  /// Reads `/proc/PID/maps`.
  ///
  /// - Throws: `.noSuchProcess` when the process is gone, `.systemCall` otherwise.
  public init(pid: pid_t) throws(USDTError) {
    self.pid = pid
    let bytes: [UInt8]
    do {
      bytes = try Syscalls.readSmallFile("/proc/\(pid)/maps")
    } catch let error where error.errno == .noSuchFileOrDirectory {
      throw USDTError(.noSuchProcess, "process \(pid) does not exist", errno: .noSuchProcess)
    }
    mappings = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap(
      Self.parse)
  }

  private static func parse(_ line: Substring) -> Mapping? {
    let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
    guard fields.count >= 5 else { return nil }
    let range = fields[0].split(separator: "-")
    guard range.count == 2, let start = UInt64(range[0], radix: 16),
      let end = UInt64(range[1], radix: 16), let offset = UInt64(fields[2], radix: 16)
    else { return nil }
    let path = fields.count == 6 ? String(fields[5].drop { $0 == " " }) : ""
    return Mapping(
      start: start, end: end, permissions: String(fields[1]), fileOffset: offset, path: path)
  }

  /// The run-time address of `fileOffset` of the file at `path` in this process, or `nil` when
  /// no mapping of that kind of that file covers it.
  public func address(ofFileOffset fileOffset: UInt64, in path: String, kind: MappingKind)
    -> UInt64?
  {
    let canonical = Self.canonicalPath(path, pid: pid)
    for mapping in mappings where mapping.path == canonical {
      switch kind {
      case .code where !mapping.isExecutable: continue
      case .data where !mapping.isWritable: continue
      default: break
      }
      let size = mapping.end &- mapping.start
      if fileOffset >= mapping.fileOffset && fileOffset - mapping.fileOffset < size {
        return mapping.start &+ (fileOffset - mapping.fileOffset)
      }
    }
    return nil
  }

  /// The path as `/proc/PID/maps` shows it: `/proc/PID/root/x` of the same process becomes
  /// `/x` (maps shows paths inside the process's root), anything else goes through realpath.
  static func canonicalPath(_ path: String, pid: pid_t) -> String {
    let ownRoot = "/proc/\(pid)/root/"
    if path.hasPrefix(ownRoot) { return "/" + path.dropFirst(ownRoot.count) }
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}

/// Reading another process's memory, for checks such as "is the semaphore counted".
public enum ProcessMemory {
  /// `count` bytes at `address` in `pid` (fewer if the mapping ends).
  public static func read(pid: pid_t, address: UInt64, count: Int) throws(USDTError) -> [UInt8] {
    try Syscalls.readProcessMemory(pid: pid, address: address, count: count)
  }

  /// The 2-byte semaphore (`unsigned short`, fixed by the sdt ABI) at `address` in `pid`.
  public static func readUInt16(pid: pid_t, address: UInt64) throws(USDTError) -> UInt16 {
    let bytes = try read(pid: pid, address: address, count: 2)
    guard bytes.count == 2 else {
      throw USDTError(.systemCall, "short read of process \(pid) at \(address)")
    }
    return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
  }
}
