// Mirror of the kernel selftest urandom_read (tools/testing/selftests/bpf/urandom_read.c), the
// child of prog_tests/usdt.c subtests urand_auto_attach and urand_pid_attach. Four probes, each
// with the arguments (iteration, count, BUF_SIZE = 256), all fired unconditionally:
//   urand:read_without_sema     in this executable, urandom_read_aux.c, no semaphore
//   urand:read_with_sema        in this executable, this file, semaphore
//                               urand_read_with_sema_semaphore in ".probes"
//   urandlib:read_without_sema  in libsharedprobes-<toolchain>.so (lib2.c), no semaphore
//   urandlib:read_with_sema     in libsharedprobes-<toolchain>.so (lib1.c), semaphore in the .so
// Built as urandom_read-clang (clang + lld -z noseparate-code: vaddr != file offset) and
// urandom_read-gcc (gcc + GNU ld), each with its own library and rpath $ORIGIN.
//
// Protocol (line-buffered stdout; one reply line per command):
//   prints "ready pid=<pid> lib=<absolute path of the mapped .so> libsema=<address of the .so's
//   semaphore> sema=<address of urand_read_with_sema_semaphore>", then reads stdin:
//   "fire <i>"  one iteration: read(/dev/urandom, buf, 256), then the four probes with
//               (i, 1, 256); prints "fired <i>";
//   end of input exits with status 0.
#define _GNU_SOURCE
#define _SDT_HAS_SEMAPHORES 1
#include <fcntl.h>
#include <sys/sdt.h>

#include "urandlib.h"

void urand_read_without_sema(int iter_num, int iter_cnt, int read_sz); // urandom_read_aux.c

unsigned short urand_read_with_sema_semaphore __attribute__((section(".probes"), used));

// Read through a volatile so the count stays a runtime value, as in the selftest's loop.
static volatile int iter_count = 1;

__attribute__((noinline)) static void urandom_read(int fd, int i) {
  char buf[BUF_SIZE];
  int count = iter_count;

  if (read(fd, buf, BUF_SIZE) < 0)
    perror("read /dev/urandom");

  // trigger USDTs defined in the executable itself
  urand_read_without_sema(i, count, BUF_SIZE);
  STAP_PROBE3(urand, read_with_sema, i, count, BUF_SIZE);

  // trigger USDTs defined in the shared library
  urandlib_read_without_sema(i, count, BUF_SIZE);
  urandlib_read_with_sema(i, count, BUF_SIZE);
}

int main(void) {
  char line[128], extra[64];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd < 0) {
    perror("open /dev/urandom");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(extra, sizeof extra, " sema=%p", (void *)&urand_read_with_sema_semaphore);
  print_ready(extra);
  while (fgets(line, sizeof line, stdin)) {
    int i;
    if (sscanf(line, "fire %d", &i) == 1) {
      urandom_read(fd, i);
      printf("fired %d\n", i);
    } else {
      printf("error unknown command\n");
    }
  }
  close(fd);
  return 0;
}
