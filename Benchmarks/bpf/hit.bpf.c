// Hit benchmark: the same source built three ways (see prelude.h), so only the USDT header and
// the spec lookup differ:
//   hit.bpf.o           Debian's header, cookie lookup        -> impls "empty", "libbpf-header"
//   hit-nocookie.bpf.o  Debian's header, IP -> HASH lookup    -> impl "ip-hash"
//   hit-ours.bpf.o      our header (one spec lookup per hit)  -> impl "ours"
// hit_args reads the probe's 3 arguments with BPF_USDT (Debian's: 3 x bpf_usdt_arg, each with
// its own spec lookup; ours: one lookup, then all three decoded) and adds them to sums[0], which
// the harness checks (n*n + n*1000 after n hits). hit_empty returns at once.
#include "prelude.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} sums SEC(".maps");

SEC("usdt") int BPF_USDT(hit_args, int a, long b, long c) {
  __u32 zero = 0;
  __u64 *sum = bpf_map_lookup_elem(&sums, &zero);
  if (sum)
    *sum += (long)a + b + c;
  return 0;
}

SEC("usdt") int hit_empty(struct pt_regs *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
