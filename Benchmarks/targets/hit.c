// Hit-benchmark target: three 3-argument probes, each inside a tight loop.
//
//   bench:hit_nop   the site is sdt.h's plain 1-byte nop (the uprobe traps with int3);
//   bench:hit_nop5  the site is "nop; nop5" (90 0f 1f 44 00 00), the combo a nop5-era kernel
//                   (Linux 6.18: uprobe syscall answers ENXIO) can turn into a call to a
//                   trampoline when the uprobe sits on the nop5, one byte after the note's pc;
//   bench:hit_regs  a plain nop like hit_nop, but all three arguments in registers.
//
// hit_nop and hit_nop5 take "-4@%<reg> 8@%<reg> 8@8(%<reg>)" = (int)i, i + 1, data[1] (two
// registers and one memory read through a register, none in the red zone); hit_regs takes
// "-4@%<reg> 8@%<reg> 8@%<reg>" = (int)i, i + 1, DATA1. A program that sums the arguments gets
// n*n + n*DATA1 after n hits from i = 0.
//
// Protocol (line-buffered; one reply per command):
//   prints "ready pid=<pid>", then reads stdin:
//   "loop <site> <n>"  (site: nop, nop5, regs) runs n hits of bench:hit_<site>; prints
//                      "done <ns>" (CLOCK_MONOTONIC, the loop only)
//   end of input exits 0. The process dies with its parent (PR_SET_PDEATHSIG).
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

#define DATA1 1000
static volatile long data[2] = {7, DATA1};

__attribute__((noinline)) void loop_nop(long n) {
  for (long i = 0; i < n; i++)
    __asm__ __volatile__(STAP_PROBE_ASM(bench, hit_nop, -4@%0 8@%1 8@8(%2))
                         :: "r"((int)i), "r"(i + 1), "r"(data) : "memory");
}

__attribute__((noinline)) void loop_nop5(long n) {
  for (long i = 0; i < n; i++)
    __asm__ __volatile__(STAP_PROBE_ASM(bench, hit_nop5, -4@%0 8@%1 8@8(%2))
                         ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
                         :: "r"((int)i), "r"(i + 1), "r"(data) : "memory");
}

__attribute__((noinline)) void loop_regs(long n) {
  long d1 = data[1];
  for (long i = 0; i < n; i++)
    __asm__ __volatile__(STAP_PROBE_ASM(bench, hit_regs, -4@%0 8@%1 8@%2)
                         :: "r"((int)i), "r"(i + 1), "r"(d1) : "memory");
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
  char line[128], site[16];
  long n;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready pid=%d\n", (int)getpid());
  while (fgets(line, sizeof line, stdin)) {
    void (*loop)(long) = NULL;
    if (sscanf(line, "loop %15s %ld", site, &n) == 2)
      loop = !strcmp(site, "nop") ? loop_nop : !strcmp(site, "nop5") ? loop_nop5 : !strcmp(site, "regs") ? loop_regs : NULL;
    if (loop) {
      long long start = now_ns();
      loop(n);
      printf("done %lld\n", now_ns() - start);
    } else {
      printf("error unknown command\n");
    }
  }
  return 0;
}
