/// Names that the BPF-side header (`bpf/usdt.bpf.h`) defines, written once.
///
/// They are the contract between this library and any BPF object that uses USDT: the same
/// names in libbpf 1.1–1.7 and in our own header.
enum BPFNames {
  /// `BPF_MAP_TYPE_ARRAY`: spec ID → `struct __bpf_usdt_spec`.
  static let specsMap = "__bpf_usdt_specs"
  /// `BPF_MAP_TYPE_HASH`: absolute IP → spec ID, used only without BPF cookies.
  static let ipToSpecIDMap = "__bpf_usdt_ip_to_spec_id"
  static let specStruct = "__bpf_usdt_spec"
  static let argSpecStruct = "__bpf_usdt_arg_spec"
  static let argTypeEnum = "__bpf_usdt_arg_type"

  enum SpecField {
    static let args = "args"
    static let cookie = "usdt_cookie"
    static let argCount = "arg_cnt"
  }

  enum ArgField {
    static let valueOffset = "val_off"
    static let type = "arg_type"
    static let registerOffset = "reg_off"
    static let isSigned = "arg_signed"
    static let bitShift = "arg_bitshift"
    /// libbpf ≥ 1.7 only (SIB).
    static let indexRegisterOffset = "idx_reg_off"
    /// libbpf ≥ 1.7 only (SIB).
    static let scaleBitShift = "scale_bitshift"
    /// SwiftUSDT's header only: bit 0 = float.
    static let flags = "arg_flags"
  }

  enum ArgType {
    static let constant = "BPF_USDT_ARG_CONST"
    static let register = "BPF_USDT_ARG_REG"
    static let dereference = "BPF_USDT_ARG_REG_DEREF"
    /// libbpf ≥ 1.7 only.
    static let sib = "BPF_USDT_ARG_SIB"
    /// SwiftUSDT's header only: the argument cannot be read (`-ENODATA`).
    static let unavailable = "BPF_USDT_ARG_UNAVAILABLE"
  }

  static let includeHint =
    "Include <bpf/usdt.bpf.h> in the BPF program and build it with -g so the object carries BTF"
}
