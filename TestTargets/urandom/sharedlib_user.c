// Second executable for the urandom_read mirror (kernel selftest urandom_read /
// liburandom_read.so): a different program that maps the SAME libsharedprobes-<toolchain>.so, for
// "two executables, one library" tests (a library attach with pid -1 must hit both; with a pid,
// only that one). It has no probes of its own.
//
// Protocol (line-buffered stdout; one reply line per command):
//   prints "ready pid=<pid> lib=<absolute path of the mapped .so> libsema=<address of the .so's
//   semaphore>", then reads stdin:
//   "fire <i>"  calls urandlib:read_without_sema and urandlib:read_with_sema with (i, 1, 256),
//               prints "fired <i>";
//   end of input exits with status 0.
#define _GNU_SOURCE
#include "urandlib.h"

static volatile int iter_count = 1;

int main(void) {
  char line[128];

  setvbuf(stdout, NULL, _IOLBF, 0);
  print_ready("");
  while (fgets(line, sizeof line, stdin)) {
    int i;
    if (sscanf(line, "fire %d", &i) == 1) {
      urandlib_read_without_sema(i, iter_count, BUF_SIZE);
      urandlib_read_with_sema(i, iter_count, BUF_SIZE);
      printf("fired %d\n", i);
    } else {
      printf("error unknown command\n");
    }
  }
  return 0;
}
