// The BPF-side spec layout of libbpf ≥ 1.7 (SIB support), written from its ABI description
// (the reference's bpf-abi.md §2), not from libbpf's header: a BPF object whose BTF carries
// that layout, so the unit tests can check that the library reads the 24-byte argument spec
// (bitfields included) and encodes SIB operands for it. It is never loaded.
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum __bpf_usdt_arg_type {
  BPF_USDT_ARG_CONST,
  BPF_USDT_ARG_REG,
  BPF_USDT_ARG_REG_DEREF,
  BPF_USDT_ARG_SIB,
};

struct __bpf_usdt_arg_spec {
  __u64 val_off;
  enum __bpf_usdt_arg_type arg_type : 8;
  __u16 idx_reg_off : 12;
  __u16 scale_bitshift : 4;
  __u8 __reserved : 8;
  short reg_off;
  bool arg_signed;
  char arg_bitshift;
};

struct __bpf_usdt_spec {
  struct __bpf_usdt_arg_spec args[12];
  __u64 usdt_cookie;
  short arg_cnt;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 256);
  __type(key, int);
  __type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps");

SEC("usdt") int layout_only(void *ctx) {
  int zero = 0;
  struct __bpf_usdt_spec *spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &zero);
  return spec ? spec->arg_cnt : 0;
}

char LICENSE[] SEC("license") = "GPL";
