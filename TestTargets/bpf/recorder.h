// The USDT recorder shared by the suites' BPF objects: every hit stores who fired (pid, tid),
// the USDT cookie, the argument count, and each of the 12 argument slots with bpf_usdt_arg's
// return code and the size the spec declares. The conformance suites read the `hits` map.
//
// Built against whichever bpf/usdt.bpf.h is installed (Debian 12: libbpf 1.1.2), so the
// library must encode specs in that header's layout, read from this object's BTF.
#ifndef USDT_RECORDER_H
#define USDT_RECORDER_H

#include <stdbool.h>
#include <linux/types.h>
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifdef USDT_FORCE_NO_COOKIE
// The no-cookie variant: libbpf's header picks cookie or IP-map lookup from the kconfig
// extern LINUX_HAS_BPF_COOKIE, which the loader sets from the kernel. To exercise the IP-map
// path on a kernel that has cookies, replace the extern with a constant false.
#undef __kconfig
#define __kconfig
#define LINUX_HAS_BPF_COOKIE usdt_force_no_cookie
static const _Bool usdt_force_no_cookie = 0;
#endif

#include <bpf/usdt.bpf.h>

#define MAX_HITS 65536
#define MAX_ARGS 12

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

static __always_inline int record(struct pt_regs *ctx, __u32 program) {
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
  h->cookie = bpf_usdt_cookie(ctx);
  h->arg_cnt = bpf_usdt_arg_cnt(ctx);
  h->ip = PT_REGS_IP(ctx);

  int spec_id = __bpf_usdt_spec_id(ctx);
  struct __bpf_usdt_spec *spec =
      spec_id < 0 ? NULL : bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);
#pragma unroll
  for (int i = 0; i < MAX_ARGS; i++) {
    long value = 0;
    h->rets[i] = bpf_usdt_arg(ctx, i, &value);
    h->args[i] = value;
    h->sizes[i] = spec && i < spec->arg_cnt ? (64 - spec->args[i].arg_bitshift) / 8 : -ENOENT;
  }
  return 0;
}

#endif
