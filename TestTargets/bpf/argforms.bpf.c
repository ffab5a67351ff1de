// The recorder for SwiftUSDT's own usdt.bpf.h (Include/usdt/usdt.bpf.h), used with the
// argforms targets: the same `struct hit` as recorder.h (program, pid, tid, arg_cnt, cookie, ip,
// and per argument slot bpf_usdt_arg's return code, value and size), plus per slot
//   flags[i]: bit 0 = float (bpf_usdt_spec_arg_is_float() == 1),
//             bit 1 = available (bpf_usdt_spec_arg_available() == 1); 0 past arg_cnt.
// record_a/record_b read through the once-per-hit path (bpf_usdt_spec() once, bpf_usdt_args()
// as BPF_USDT() does, with the shared stack-slot read), record_c through bpf_usdt_spec() +
// bpf_usdt_arg_spec() per argument, record_d through libbpf's ctx-based API (bpf_usdt_arg()
// etc.), so attaching several of them to one probe checks that every path agrees. Maps
// `hits` / `hit_count` and programs record_a..record_d (bare SEC("usdt"), attached by hand)
// as in recorder.bpf.c.
//
// Built twice: argforms.bpf.o, and argforms-nocookie.bpf.o with -DUSDT_FORCE_NO_COOKIE, which
// looks specs up by IP (see recorder.h for the trick).
#include <stdbool.h>
#include <linux/types.h>
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifdef USDT_FORCE_NO_COOKIE
#undef __kconfig
#define __kconfig
#define LINUX_HAS_BPF_COOKIE usdt_force_no_cookie
static const _Bool usdt_force_no_cookie = 0;
#endif

#include "usdt/usdt.bpf.h"

#define MAX_HITS 65536
#define MAX_ARGS 12

#define HIT_FLAG_FLOAT 0x1
#define HIT_FLAG_AVAILABLE 0x2

struct hit {
  __u32 program;
  __u32 pid;
  __u32 tid;
  __s32 arg_cnt;
  __u64 cookie;
  __u64 ip;
  __s64 rets[MAX_ARGS];
  __u64 args[MAX_ARGS];
  __s32 sizes[MAX_ARGS];
  __s32 flags[MAX_ARGS]; // offset 272; the struct is 320 bytes
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_HITS);
  __type(key, __u32);
  __type(value, struct hit);
} hits SEC(".maps");

/// Slot 0: every hit, recorded or not (the ones past MAX_HITS are only counted).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} hit_count SEC(".maps");

/// How a program reads the arguments; every way must record the same hit.
enum read_path {
  READ_BULK,    // bpf_usdt_spec() once, then bpf_usdt_args(): what BPF_USDT() does
  READ_EACH,    // bpf_usdt_spec() once, then bpf_usdt_arg_spec() per argument
  READ_LIBBPF,  // libbpf's ctx-based API: bpf_usdt_arg() etc., a spec lookup per call
};

static __always_inline int record(struct pt_regs *ctx, __u32 program, enum read_path path) {
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
  h->program = program;
  h->pid = pid_tgid >> 32;
  h->tid = (__u32)pid_tgid;
  h->ip = PT_REGS_IP(ctx);

  if (path == READ_LIBBPF) {
    h->cookie = bpf_usdt_cookie(ctx);
    h->arg_cnt = bpf_usdt_arg_cnt(ctx);
#pragma unroll
    for (int i = 0; i < MAX_ARGS; i++) {
      long value = 0;
      h->rets[i] = bpf_usdt_arg(ctx, i, &value);
      h->args[i] = value;
      h->sizes[i] = bpf_usdt_arg_size(ctx, i);
      h->flags[i] = (bpf_usdt_arg_is_float(ctx, i) == 1 ? HIT_FLAG_FLOAT : 0) |
                    (bpf_usdt_arg_available(ctx, i) == 1 ? HIT_FLAG_AVAILABLE : 0);
    }
    return 0;
  }

  const struct __bpf_usdt_spec *spec = bpf_usdt_spec(ctx);
  h->cookie = bpf_usdt_spec_cookie(spec);
  h->arg_cnt = bpf_usdt_spec_arg_cnt(spec);
  long values[MAX_ARGS];
  int errors[MAX_ARGS];
  if (path == READ_BULK)
    bpf_usdt_args(ctx, spec, values, errors, MAX_ARGS);
#pragma unroll
  for (int i = 0; i < MAX_ARGS; i++) {
    if (path == READ_EACH)
      errors[i] = bpf_usdt_arg_spec(ctx, spec, i, &values[i]);
    h->rets[i] = errors[i];
    h->args[i] = values[i];
    // -ENOENT past arg_cnt, -ESRCH without a spec (recorder.h writes -ENOENT for both).
    h->sizes[i] = bpf_usdt_spec_arg_size(spec, i);
    h->flags[i] = (bpf_usdt_spec_arg_is_float(spec, i) == 1 ? HIT_FLAG_FLOAT : 0) |
                  (bpf_usdt_spec_arg_available(spec, i) == 1 ? HIT_FLAG_AVAILABLE : 0);
  }
  return 0;
}

// record_a and record_b read arguments like BPF_USDT(), record_c one at a time from the
// looked-up spec, record_d through libbpf's ctx-based API.
SEC("usdt") int record_a(struct pt_regs *ctx) { return record(ctx, 0, READ_BULK); }
SEC("usdt") int record_b(struct pt_regs *ctx) { return record(ctx, 1, READ_BULK); }
SEC("usdt") int record_c(struct pt_regs *ctx) { return record(ctx, 2, READ_EACH); }
SEC("usdt") int record_d(struct pt_regs *ctx) { return record(ctx, 3, READ_LIBBPF); }

char LICENSE[] SEC("license") = "GPL";
