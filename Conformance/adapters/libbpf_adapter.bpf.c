// The libbpf adapter's BPF side (Conformance/ADAPTERS.md): one bare SEC("usdt") program that
// libbpf's bpf_program__attach_usdt attaches, reading everything through libbpf's own
// <bpf/usdt.bpf.h> (Debian 12: libbpf 1.1.2). This is the peer being graded: nothing of
// SwiftUSDT is involved. Each hit stores pid, tid, bpf_usdt_cookie(), bpf_usdt_arg_cnt(), and
// for each of the 12 argument slots bpf_usdt_arg()'s return code and value; the adapter reads
// the `hits` map after the run.
#include <stdbool.h>
#include <linux/types.h>
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define MAX_HITS 65536
#define MAX_ARGS 12

struct hit {
  __u32 pid;
  __u32 tid;
  __s32 arg_cnt;
  __u32 unused;
  __u64 cookie;
  __s64 rets[MAX_ARGS];
  __u64 args[MAX_ARGS];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_HITS);
  __type(key, __u32);
  __type(value, struct hit);
} hits SEC(".maps");

// Slot 0: every hit, recorded or not (hits past MAX_HITS are only counted).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} hit_count SEC(".maps");

SEC("usdt") int record(struct pt_regs *ctx) {
  __u32 zero = 0;
  __u64 *count = bpf_map_lookup_elem(&hit_count, &zero);
  if (!count)
    return 0;
  __u64 slot = __sync_fetch_and_add(count, 1);
  if (slot >= MAX_HITS)
    return 0;
  __u32 key = (__u32)slot;
  struct hit *h = bpf_map_lookup_elem(&hits, &key);
  if (!h)
    return 0;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  h->pid = pid_tgid >> 32;
  h->tid = (__u32)pid_tgid;
  h->cookie = bpf_usdt_cookie(ctx);
  h->arg_cnt = bpf_usdt_arg_cnt(ctx);
#pragma unroll
  for (int i = 0; i < MAX_ARGS; i++) {
    long value = 0;
    h->rets[i] = bpf_usdt_arg(ctx, i, &value);
    h->args[i] = value;
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
