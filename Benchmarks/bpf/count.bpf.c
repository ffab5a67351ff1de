// Attach benchmark: counts hits of bench:site. Loaded by the Swift harness (swift-multi,
// swift-perf), by helpers/libbpf_attach.c (libbpf's own bpf_program__attach_usdt) and by
// helpers/raw_multi.c (one bare BPF_LINK_CREATE), so every impl attaches the same program.
#include "prelude.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("usdt") int count_hits(struct pt_regs *ctx) {
  __u32 zero = 0;
  __u64 *count = bpf_map_lookup_elem(&counts, &zero);
  if (count)
    __sync_fetch_and_add(count, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
