import CLibBPF
import CUSDTShims
import Glibc
import SystemPackage

/// The one place that calls the kernel: every system call and libbpf map call of the library.
///
/// Each wrapper turns `-1`/`errno` (or libbpf's negative error) into a typed ``USDTError``,
/// retries `EINTR`, and passes through ``FaultInjection`` so tests can make call N fail and
/// check that nothing is left behind.
enum Syscalls {
  /// Runs `body` until it does not fail with `EINTR`; `-1` (or a negative libbpf code) becomes an error.
  @inline(__always)
  static func valueOrErrno(
    _ call: String, _ body: () -> CInt
  ) throws(USDTError) -> CInt {
    if let injected = FaultInjection.take(call) {
      throw USDTError(.systemCall, call, errno: injected)
    }
    while true {
      let result = body()
      if result >= 0 { return result }
      let code = result == -1 ? Glibc.errno : -result
      if code == EINTR { continue }
      throw USDTError(kind(for: Errno(rawValue: code)), call, errno: Errno(rawValue: code))
    }
  }

  /// Errors whose cause the user can act on get their own kind.
  static func kind(for errno: Errno) -> USDTError.Kind {
    switch errno {
    case .notPermitted, .permissionDenied: .permissionDenied
    case .noSuchProcess: .noSuchProcess
    default: .systemCall
    }
  }

  /// Opens a uprobe through the uprobe PMU. The corresponding system call is `perf_event_open(2)`.
  ///
  /// `offset` and `refCtrOffset` are file offsets; the kernel counts the semaphore at
  /// `refCtrOffset` (Linux 4.20+, `config[63:32]`). `pid == -1` needs `cpu = 0`.
  static func openUprobe(
    pmuType: UInt32, path: String, offset: UInt64, refCtrOffset: UInt64, pid: pid_t
  ) throws(USDTError) -> CInt {
    var attr = perf_event_attr()
    attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
    attr.type = pmuType
    attr.config = refCtrOffset << 32
    attr.config2 = offset
    return try valueOrErrno("perf_event_open") {
      path.withCString { cPath in
        attr.config1 = UInt64(UInt(bitPattern: cPath))
        return CUSDT_perf_event_open(&attr, pid, pid == -1 ? 0 : -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
      }
    }
  }

  /// Links a BPF program to a perf event with a BPF cookie (Linux 5.15+). `BPF_LINK_CREATE`.
  static func createPerfEventLink(program: CInt, perfEvent: CInt, cookie: UInt64) throws(USDTError)
    -> CInt
  {
    var attr = CUSDT_link_create_attr()
    attr.prog_fd = UInt32(bitPattern: program)
    attr.target_fd = UInt32(bitPattern: perfEvent)
    attr.attach_type = UInt32(CUSDT_BPF_PERF_EVENT)
    attr.perf_event.bpf_cookie = cookie
    return try valueOrErrno("bpf(BPF_LINK_CREATE, BPF_PERF_EVENT)") {
      CUSDT_bpf(Int32(CUSDT_BPF_LINK_CREATE), &attr, UInt32(MemoryLayout<CUSDT_link_create_attr>.size))
    }
  }

  /// Attaches one program to many uprobes of one file in a single link (Linux 6.6+).
  /// `BPF_LINK_CREATE` with `BPF_TRACE_UPROBE_MULTI`; `pid == 0` means every process.
  static func createUprobeMultiLink(
    program: CInt, path: String, offsets: [UInt], refCtrOffsets: [UInt], cookies: [UInt64],
    pid: pid_t
  ) throws(USDTError) -> CInt {
    var attr = CUSDT_link_create_attr()
    attr.prog_fd = UInt32(bitPattern: program)
    attr.attach_type = UInt32(CUSDT_BPF_TRACE_UPROBE_MULTI)
    attr.uprobe_multi.cnt = UInt32(truncatingIfNeeded: offsets.count)
    attr.uprobe_multi.pid = UInt32(bitPattern: pid)
    let hasRefCtr = refCtrOffsets.contains { $0 != 0 }
    return try valueOrErrno("bpf(BPF_LINK_CREATE, BPF_TRACE_UPROBE_MULTI)") {
      path.withCString { cPath in
        offsets.withUnsafeBufferPointer { offs in
          refCtrOffsets.withUnsafeBufferPointer { refs in
            cookies.withUnsafeBufferPointer { cks in
              attr.uprobe_multi.path = UInt64(UInt(bitPattern: cPath))
              attr.uprobe_multi.offsets = address(offs.baseAddress)
              attr.uprobe_multi.ref_ctr_offsets = hasRefCtr ? address(refs.baseAddress) : 0
              attr.uprobe_multi.cookies = address(cks.baseAddress)
              return CUSDT_bpf(
                Int32(CUSDT_BPF_LINK_CREATE), &attr,
                UInt32(MemoryLayout<CUSDT_link_create_attr>.size))
            }
          }
        }
      }
    }
  }

  private static func address<T>(_ pointer: UnsafePointer<T>?) -> UInt64 {
    UInt64(UInt(bitPattern: pointer))
  }

  /// Closes an fd we own. `EBADF` on our own fd is a bug in this library, not an error to report.
  static func close(_ fd: CInt) {
    let result = Glibc.close(fd)
    if result == -1 && Glibc.errno == EBADF {
      preconditionFailure("closed fd \(fd) that this library did not own")
    }
  }

  /// Writes one map element. The corresponding call is `bpf(BPF_MAP_UPDATE_ELEM)`.
  static func updateMapElement(map: CInt, key: [UInt8], value: [UInt8], flags: UInt64)
    throws(USDTError)
  {
    _ = try valueOrErrno("bpf(BPF_MAP_UPDATE_ELEM)") {
      key.withUnsafeBytes { k in
        value.withUnsafeBytes { v in bpf_map_update_elem(map, k.baseAddress, v.baseAddress, flags) }
      }
    }
  }

  /// Deletes one map element, ignoring a missing key. `bpf(BPF_MAP_DELETE_ELEM)`.
  static func deleteMapElement(map: CInt, key: [UInt8]) {
    _ = key.withUnsafeBytes { k in bpf_map_delete_elem(map, k.baseAddress) }
  }

  /// Reads one map element of `valueSize` bytes. `bpf(BPF_MAP_LOOKUP_ELEM)`.
  static func lookupMapElement(map: CInt, key: [UInt8], valueSize: Int) throws(USDTError)
    -> [UInt8]
  {
    var value = [UInt8](repeating: 0, count: valueSize)
    _ = try valueOrErrno("bpf(BPF_MAP_LOOKUP_ELEM)") {
      key.withUnsafeBytes { k in
        value.withUnsafeMutableBytes { v in bpf_map_lookup_elem(map, k.baseAddress, v.baseAddress) }
      }
    }
    return value
  }

  /// Opens a file read-only. The corresponding system call is `open(2)`.
  static func openReadOnly(_ path: String) throws(USDTError) -> CInt {
    do throws(USDTError) {
      return try valueOrErrno("open") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
    } catch {
      throw USDTError(error.kind, "open \(path)", errno: error.errno)
    }
  }

  /// Reads up to `count` bytes at `offset` (`pread(2)`); fewer at end of file.
  static func read(_ fd: CInt, at offset: UInt64, count: Int, path: String) throws(USDTError)
    -> [UInt8]
  {
    var buffer = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let got: CInt
      do throws(USDTError) {
        got = try valueOrErrno("pread") {
          buffer.withUnsafeMutableBytes { raw in
            let rest = UnsafeMutableRawBufferPointer(rebasing: raw[filled...])
            return CInt(
              truncatingIfNeeded: pread(
                fd, rest.baseAddress, rest.count, off_t(Int64(bitPattern: offset &+ UInt64(filled)))))
          }
        }
      } catch {
        throw USDTError(error.kind, "read \(path)", errno: error.errno)
      }
      if got == 0 { break }
      filled += Int(got)
    }
    return Array(buffer[0..<filled])
  }

  /// Reads a small file completely (`/sys`, `/proc`); these report a size of 0, so read to EOF.
  static func readSmallFile(_ path: String) throws(USDTError) -> [UInt8] {
    let fd = try openReadOnly(path)
    defer { close(fd) }
    var result: [UInt8] = []
    while true {
      let chunk = try read(fd, at: UInt64(result.count), count: 65536, path: path)
      if chunk.isEmpty { return result }
      result += chunk
    }
  }

  /// Reads `count` bytes of another process's memory at `address` (`/proc/PID/mem`).
  static func readProcessMemory(pid: pid_t, address: UInt64, count: Int) throws(USDTError)
    -> [UInt8]
  {
    let path = "/proc/\(pid)/mem"
    let fd = try openReadOnly(path)
    defer { close(fd) }
    return try read(fd, at: address, count: count, path: path)
  }

  static var currentProcessID: pid_t { getpid() }
}
