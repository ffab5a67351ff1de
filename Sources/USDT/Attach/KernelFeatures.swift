import CLibBPF
import CUSDTShims
import Glibc

/// What the running kernel can do, probed once per process and cached.
///
/// Only a definite answer counts: a probe that fails for another reason (no privilege) reports
/// the feature as missing, so the library falls back to the older path rather than guessing.
public enum KernelFeatures {
  /// The dynamic PMU type of uprobes, from `/sys/bus/event_source/devices/uprobe/type`.
  static let uprobePMUType: Result<UInt32, USDTError> = Result { () throws(USDTError) in
    let path = "/sys/bus/event_source/devices/uprobe/type"
    let bytes = try Syscalls.readSmallFile(path)
    let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
    guard let type = UInt32(text) else {
      throw USDTError(.kernelLacks("uprobe PMU"), "cannot read the uprobe PMU type from \(path)")
    }
    return type
  }

  /// Whether the kernel counts USDT semaphores itself (`ref_ctr_offset`, Linux 4.20,
  /// commit a6ca88b241d5). Found the way libbpf does: the PMU's format file exists.
  public static let countsSemaphores: Bool =
    access("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset", F_OK) == 0

  /// Whether BPF programs can read a per-attach cookie, `bpf_get_attach_cookie` (Linux 5.15,
  /// commit 7adfc6c9b315): a tracepoint program calling helper 174 loads.
  public static let hasBPFCookie: Bool = {
    let program = [
      instruction(0x85, imm: 174),  // call bpf_get_attach_cookie
      instruction(0xb7, imm: 0),  // r0 = 0
      instruction(0x95),  // exit
    ]
    guard let fd = loadProbeProgram(type: BPF_PROG_TYPE_TRACEPOINT, attachType: 0, program) else {
      return false
    }
    Syscalls.close(fd)
    return true
  }()

  /// Whether one `uprobe_multi` link can attach many sites with a working pid filter
  /// (Linux 6.6; the filter fixed by commit 46ba0e49b642 in 6.10). Probed as libbpf does:
  /// linking to `/` must fail with `EBADF` (the path was checked, so the link type exists),
  /// and a negative pid must fail with `EINVAL` (only the fixed kernel checks it).
  public static let hasUprobeMulti: Bool = {
    guard
      let program = loadProbeProgram(
        type: BPF_PROG_TYPE_KPROBE, attachType: UInt32(CUSDT_BPF_TRACE_UPROBE_MULTI),
        [instruction(0xb7, imm: 0), instruction(0x95)])
    else { return false }
    defer { Syscalls.close(program) }
    func errno(pid: pid_t) -> Int32? {
      do {
        let link = try Syscalls.createUprobeMultiLink(
          program: program, path: "/", offsets: [0], refCtrOffsets: [0], cookies: [0], pid: pid)
        Syscalls.close(link)
        return nil
      } catch {
        return error.errno?.rawValue
      }
    }
    return errno(pid: 0) == EBADF && errno(pid: -1) == EINVAL
  }()

  /// What the x86-64 uprobe syscall says about optimized uprobes on nop combos.
  public enum NopOptimization: Sendable, Equatable {
    /// No uprobe syscall (not x86-64, or an older kernel): probes stay on the 1-byte nop.
    case unavailable
    /// The syscall answers `ENXIO` (Linux 6.18, libbpf 1.7's test): a uprobe placed on the
    /// 5-byte nop after the note's nop is rewritten into a call after its first hit.
    case nop5
    /// Any other answer: a newer kernel, whose optimizer targets the 10-byte nop combo
    /// (libbpf's 2026-07 tree). Not measurable here.
    case nop10(errno: Int32)
  }

  /// Probed once: call the uprobe syscall outside a trampoline and read the errno, as libbpf does.
  public static let nopOptimization: NopOptimization = {
    guard hostArchitecture == .x86_64, CUSDT_uprobe_syscall() < 0 else { return .unavailable }
    switch Glibc.errno {
    case ENOSYS: return .unavailable
    case ENXIO: return .nop5
    case let other: return .nop10(errno: other)
    }
  }()

  /// The architecture this process runs on, which attach needs: register offsets point into
  /// the running kernel's `struct pt_regs`.
  public static let hostArchitecture: Architecture? = {
    var names = utsname()
    uname(&names)
    let machine = withUnsafeBytes(of: names.machine) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    switch machine {
    case "x86_64": return .x86_64
    case "aarch64": return .aarch64
    case "s390x": return .s390x
    case "riscv64": return .riscv64
    case "ppc64le": return .ppc64le
    case "loongarch64": return .loongarch64
    case "i686", "i386": return .i386
    default: return machine.hasPrefix("arm") ? .arm : nil
    }
  }()

  private static func instruction(_ code: UInt8, imm: Int32 = 0) -> bpf_insn {
    var insn = bpf_insn()
    insn.code = code
    insn.imm = imm
    return insn
  }

  /// Loads a tiny program to ask the verifier a question; the fd, or `nil` if it was refused.
  private static func loadProbeProgram(
    type: bpf_prog_type, attachType: UInt32, _ instructions: [bpf_insn]
  ) -> CInt? {
    var options = bpf_prog_load_opts()
    options.sz = MemoryLayout<bpf_prog_load_opts>.size
    options.expected_attach_type = bpf_attach_type(rawValue: attachType)
    let fd = instructions.withUnsafeBufferPointer {
      bpf_prog_load(type, nil, "GPL", $0.baseAddress, $0.count, &options)
    }
    return fd >= 0 ? fd : nil
  }
}
