#include "CUSDTShims.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const unsigned long CUSDT_PERF_EVENT_IOC_ENABLE = PERF_EVENT_IOC_ENABLE;
const unsigned long CUSDT_PERF_EVENT_IOC_DISABLE = PERF_EVENT_IOC_DISABLE;
const unsigned long CUSDT_PERF_EVENT_IOC_SET_BPF = PERF_EVENT_IOC_SET_BPF;

int CUSDT_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
                          unsigned long flags) {
  return (int)syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

int CUSDT_bpf(int cmd, void *attr, unsigned int size) {
  return (int)syscall(__NR_bpf, cmd, attr, size);
}

int CUSDT_uprobe_syscall(void) {
#if defined(__x86_64__)
  return (int)syscall(336);
#else
  errno = ENOSYS;
  return -1;
#endif
}

int CUSDT_ioctl(int fd, unsigned long request, unsigned long argument) {
  return ioctl(fd, request, argument);
}
