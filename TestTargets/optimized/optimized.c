// Sites for the x86-64 optimized-uprobe path (kernel selftest `usdt` subtests
// optimized_attach / basic_optimized): a probe on a plain 1-byte nop, one whose nop is
// followed by a 5-byte nop (`90 0f 1f 44 00 00`, what usdt.h emitted until 2026-05), and one
// followed by a 10-byte nop (`90 66 2e 0f 1f 84 00 00 00 00 00`, usdt.h's current combo). Each
// has arguments (x, 1000 + x) in registers.
//
// Protocol: prints "ready pid=<pid> nop1=<addr> nop5=<addr> nop10=<addr>" (the probes' run-time
// addresses), then reads stdin: "fire <x>" runs the three probes once, prints "fired <x>";
// "loop <n>" runs the nop5 probe n times, prints "looped <n>"; end of input exits 0.
#include <stdio.h>
#include <sys/sdt.h>
#include <unistd.h>

#define NOP5 ".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
#define NOP10 ".byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00\n"

// The label before each site lets the harness find the probe's address at run time.
#define SITE(label, name, tail)                                                                  \
  __asm__ __volatile__(".globl " #label "\n" #label ":\n" STAP_PROBE_ASM(optimized, name,        \
                                                                        -4@%%edi -8@%%rsi) tail \
                       ::"D"(x), "S"(1000L + x)                                                  \
                       : "memory")

__attribute__((noinline)) void probe_nop1(int x) { SITE(site_nop1, nop1, ""); }
__attribute__((noinline)) void probe_nop5(int x) { SITE(site_nop5, nop5, NOP5); }
__attribute__((noinline)) void probe_nop10(int x) { SITE(site_nop10, nop10, NOP10); }

extern char site_nop1[], site_nop5[], site_nop10[];

int main(void) {
  char line[128];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready pid=%d nop1=%p nop5=%p nop10=%p\n", (int)getpid(), (void *)site_nop1,
         (void *)site_nop5, (void *)site_nop10);
  while (fgets(line, sizeof line, stdin)) {
    int x;
    long n;
    if (sscanf(line, "fire %d", &x) == 1) {
      probe_nop1(x);
      probe_nop5(x);
      probe_nop10(x);
      printf("fired %d\n", x);
    } else if (sscanf(line, "loop %ld", &n) == 1) {
      for (long i = 0; i < n; i++)
        probe_nop5((int)i);
      printf("looped %ld\n", n);
    } else {
      printf("error unknown command\n");
    }
  }
  return 0;
}
