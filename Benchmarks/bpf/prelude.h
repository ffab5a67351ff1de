// Shared prelude of the benchmark BPF programs (as TestTargets/bpf/recorder.h): kernel types,
// libbpf's helpers, then ONE USDT header:
//   default                 Debian's libbpf 1.1.2 <bpf/usdt.bpf.h>
//   -DBENCH_OURS            SwiftUSDT's "usdt/usdt.bpf.h" (Include/usdt), once-per-hit spec lookup
//   -DUSDT_FORCE_NO_COOKIE  (the -nocookie builds) look the spec ID up by IP in a HASH map
#ifndef BENCH_PRELUDE_H
#define BENCH_PRELUDE_H

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

#ifdef BENCH_OURS
#include "usdt/usdt.bpf.h"
#else
#include <bpf/usdt.bpf.h>
#endif

#endif
