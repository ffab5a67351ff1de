// What Swift cannot call itself: variadic syscall(2) and ioctl(2), function-like ioctl macros,
// and the uprobe_multi fields of `union bpf_attr` that Debian 12's linux-libc-dev (6.1) lacks.
// Every shim returns -1 and sets errno on failure, like the system call it wraps. No logic here.
#ifndef CUSDT_SHIMS_H
#define CUSDT_SHIMS_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

/// `BPF_LINK_CREATE`'s part of `union bpf_attr`, as of Linux 6.6 (uprobe_multi), laid out by hand
/// because the 6.1 uapi header predates it. Offsets: prog_fd 0, target_fd 4, attach_type 8,
/// flags 12, perf_event.bpf_cookie 16; uprobe_multi path 16, offsets 24, ref_ctr_offsets 32,
/// cookies 40, cnt 48, flags 52, pid 56, path_fd 60.
struct CUSDT_link_create_attr {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  union {
    struct {
      uint64_t bpf_cookie;
    } perf_event;
    struct {
      uint64_t path;
      uint64_t offsets;
      uint64_t ref_ctr_offsets;
      uint64_t cookies;
      uint32_t cnt;
      uint32_t flags;
      uint32_t pid;
      uint32_t path_fd;
    } uprobe_multi;
  };
};

/// `bpf(2)` command and attach-type numbers we use; defined here so old headers do not matter.
enum {
  CUSDT_BPF_PROG_LOAD = 5,
  CUSDT_BPF_LINK_CREATE = 28,
  CUSDT_BPF_PERF_EVENT = 41,
  CUSDT_BPF_TRACE_UPROBE_MULTI = 48,
};

/// `PERF_EVENT_IOC_*` are function-like macros, which Swift does not import.
extern const unsigned long CUSDT_PERF_EVENT_IOC_ENABLE;
extern const unsigned long CUSDT_PERF_EVENT_IOC_DISABLE;
extern const unsigned long CUSDT_PERF_EVENT_IOC_SET_BPF;

/// perf_event_open(2) has no libc wrapper.
int CUSDT_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
                          unsigned long flags);

/// bpf(2) has no libc wrapper; `attr` points at the command's part of `union bpf_attr`.
int CUSDT_bpf(int cmd, void *attr, unsigned int size);

/// The x86-64 uprobe syscall (number 336), called outside a uprobe trampoline to learn whether
/// the kernel can optimize uprobes on nop combos: Linux 6.18 answers ENXIO ("nop5 era").
int CUSDT_uprobe_syscall(void);

/// ioctl(2) is variadic.
int CUSDT_ioctl(int fd, unsigned long request, unsigned long argument);

#endif
