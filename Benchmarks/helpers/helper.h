// Shared bits of the attach-benchmark helpers: a clock, the reply format, libbpf quieting, the
// BPF counter. Each helper is a co-process of the Swift harness: it prints "ready", then answers
// one line per command read from stdin ("ok <value>" or "err <errno> <message>"), so the harness
// can interleave its runs with its own (the machine is noisy; ratios come from one run).
#ifndef BENCH_HELPER_H
#define BENCH_HELPER_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void reply_ok(long long value) { printf("ok %lld\n", value); }

static void reply_err(int code, const char *what) {
  printf("err %d %s: %s\n", code, what, strerror(code));
}

static int print_warnings(enum libbpf_print_level level, const char *format, va_list args) {
  return level == LIBBPF_WARN ? vfprintf(stderr, format, args) : 0;
}

/// Dies with the harness, raises the fd limit (2 fds per site for libbpf), line-buffers stdout.
static void helper_setup(void) {
  struct rlimit limit;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  libbpf_set_print(print_warnings);
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// counts[0] of the object's "counts" map (count.bpf.c), or -1.
static long long read_count(struct bpf_object *object) {
  struct bpf_map *map = bpf_object__find_map_by_name(object, "counts");
  __u32 zero = 0;
  __u64 value = 0;
  if (!map || bpf_map_lookup_elem(bpf_map__fd(map), &zero, &value)) return -1;
  return (long long)value;
}

#endif
