// Mirror of the kernel selftest `usdt` (prog_tests/usdt.c, subtest basic): the probes
// test:usdt0 (no arguments), test:usdt3 and test:usdt12, each gated on its semaphore so a
// hit also proves the kernel counted the semaphore (ref_ctr_offset). trigger_func is inlined
// into two functions, so every probe has two sites (two notes), as in the selftest.
//
// Protocol (for the conformance suites and other implementations' adapters):
//   prints "ready pid=<pid> bla=<address of bla>", then reads commands from stdin:
//   "fire <x>"  runs trigger_func(x) once (odd x: site A, even x: site B), prints "fired <x>";
//   end of input exits with status 0.
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

unsigned short test_usdt0_semaphore __attribute__((section(".probes")));
unsigned short test_usdt3_semaphore __attribute__((section(".probes")));
unsigned short test_usdt12_semaphore __attribute__((section(".probes")));

static volatile int idx = 2;
static volatile unsigned long long bla = 0xFEDCBA9876543210ULL;
static volatile short nums[] = {-1, -2, -3, -4};
static volatile struct {
  int x;
  signed char y;
} t1 = {1, -127};

static inline __attribute__((always_inline)) void trigger_func(int x) {
  long y = 42;

  if (test_usdt0_semaphore)
    STAP_PROBE(test, usdt0);
  if (test_usdt3_semaphore)
    STAP_PROBE3(test, usdt3, x, y, &bla);
  if (test_usdt12_semaphore)
    STAP_PROBE12(test, usdt12, x, x + 1, y, x + y, 5, y / 7, bla, &bla, -9, nums[x], nums[idx],
                 t1.y);
}

__attribute__((noinline)) void site_a(int x) { trigger_func(x); }
__attribute__((noinline)) void site_b(int x) { trigger_func(x); }

int main(void) {
  char line[128];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready pid=%d bla=%p\n", (int)getpid(), (void *)&bla);
  while (fgets(line, sizeof line, stdin)) {
    int x;
    if (sscanf(line, "fire %d", &x) == 1 && x >= 0 && x < 4) {
      if (x % 2)
        site_a(x);
      else
        site_b(x);
      printf("fired %d\n", x);
    }
  }
  return 0;
}
