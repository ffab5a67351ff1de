import CLibBPF
import Glibc

// BPF program run time from the kernel's own accounting: with kernel.bpf_stats_enabled = 1 the
// kernel adds every run's duration to the program's run_time_ns and counts it in run_cnt, which
// bpf_obj_get_info_by_fd reports. The sysctl is restored on every exit path (including signals).

private let statsSysctl = "/proc/sys/kernel/bpf_stats_enabled"

/// The sysctl's value before the harness touched it ('0' or '1'); 0 while untouched.
nonisolated(unsafe) var savedStatsValue: UInt8 = 0

enum BPFStats {
  /// Saves the current value once; later calls keep the first saved value.
  static func save() throws {
    guard savedStatsValue == 0 else { return }
    let fd = open(statsSysctl, O_RDONLY)
    guard fd >= 0 else { throw BenchError("cannot read \(statsSysctl): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var byte: UInt8 = 0
    guard read(fd, &byte, 1) == 1 else { throw BenchError("cannot read \(statsSysctl)") }
    savedStatsValue = byte
  }

  static func set(_ enabled: Bool) throws {
    try save()
    guard writeSysctl(enabled ? UInt8(ascii: "1") : UInt8(ascii: "0")) else {
      throw BenchError("cannot write \(statsSysctl): \(String(cString: strerror(errno)))")
    }
  }

  /// Puts back the saved value; async-signal-safe.
  static func restore() {
    guard savedStatsValue != 0 else { return }
    _ = writeSysctl(savedStatsValue)
  }

  private static func writeSysctl(_ byte: UInt8) -> Bool {
    let fd = open(statsSysctl, O_WRONLY)
    guard fd >= 0 else { return false }
    var value = byte
    let written = write(fd, &value, 1)
    close(fd)
    return written == 1
  }
}

/// A loaded BPF program of this process, found by fd.
struct ProgramHandle {
  let fd: CInt
  let name: String

  /// (run_time_ns, run_cnt) so far.
  func stats() throws -> (time: UInt64, count: UInt64) {
    var info = bpf_prog_info()
    var length = UInt32(MemoryLayout<bpf_prog_info>.size)
    guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else {
      throw BenchError("bpf_obj_get_info_by_fd(\(name)): \(String(cString: strerror(errno)))")
    }
    return (info.run_time_ns, info.run_cnt)
  }

  /// The fds of every BPF program this process holds (`anon_inode:bpf-prog`).
  static func openPrograms() -> [CInt: String] {
    var result: [CInt: String] = [:]
    guard let dir = opendir("/proc/self/fd") else { return result }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
      guard let fd = CInt(name) else { continue }
      var target = [CChar](repeating: 0, count: 256)
      let count = readlink("/proc/self/fd/\(name)", &target, 255)
      guard count > 0 else { continue }
      guard cArrayString(target) == "anon_inode:bpf-prog" else { continue }
      var info = bpf_prog_info()
      var length = UInt32(MemoryLayout<bpf_prog_info>.size)
      guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { continue }
      result[fd] = withUnsafeBytes(of: info.name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
    return result
  }

  /// Runs `load` (which loads one BPF object) and returns the programs it added, by name.
  static func programsLoaded<T>(by load: () throws -> T) rethrows -> (T, [String: ProgramHandle]) {
    let before = openPrograms()
    let value = try load()
    var added: [String: ProgramHandle] = [:]
    for (fd, name) in openPrograms() where before[fd] == nil {
      added[name] = ProgramHandle(fd: fd, name: name)
    }
    return (value, added)
  }
}
