import Glibc

/// What the running kernel can do, probed once per process and cached.
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
}
