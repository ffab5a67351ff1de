// Probes whose arguments cover every operand form a compiler emits for <sys/sdt.h> on x86-64,
// with values a harness can assert (TestTargets/argforms/expected.json, for `fire 1` and
// `fire 2`). Built four ways (gcc/clang × -O0/-O2, see argforms.mk); the forms each build
// produced are in notes-<build>.txt. At gcc -O2 (the build with the most forms):
//
//   argforms:ints     signed char/short/int/long, each positive and negative: registers of
//                     every width (%dil %si %edx %rcx %r8b %r9w) and stack slots (8(%rsp))
//   argforms:uints    the same for unsigned types, each with and without the top bit set
//   argforms:globals  globals read RIP-relative (g_s32(%rip), g_struct+8(%rip)), a constant
//                     index into a global array (g_arr+16(%rip)) and a global's address
//   argforms:arrays   elements indexed at run time: SIB with scale 8/4/2/1, a displacement
//                     (4(%r8,%rdi,8)), a stack array (-72(%rsp,%rdi,8)), a double array
//                     (8f@ SIB); and a pointer parameter read at (%rdx) and 24(%rdx)
//   argforms:floats   double and float parameters, globals, computed values (8f@, 4f@)
//   argforms:consts   constants of every size and sign ($42, $-1, $-5000000000, ...)
//   argforms:twelve   12 arguments mixing the forms above
//   argforms:tls      a thread-local variable between two plain ones (%fs:t_val@tpoff):
//                     argument 1 cannot be read from a uprobe in the builds that use %fs:
//
// Integer values are kept deterministic: derived from the `fire <x>` argument and from fixed
// globals. The globals are volatile so that the compiler reads them where the probe is
// (the RIP-relative and SIB forms), and the probes sit in functions that gcc may not clone
// or specialise (noipa), so that parameters stay in their ABI registers.
//
// Protocol (as TestTargets/basic/basic.c):
//   prints "ready pid=<pid> g_s64=<address> g_arr=<address>" (the addresses that arguments
//   of argforms:globals and argforms:twelve carry), then reads commands from stdin:
//   "fire <x>"  (0 <= x < 100) sets the globals from x and fires every probe once, in the
//               order above; prints "fired <x>";
//   "loop <n>"  fires every probe n times with x = 1 (for benchmarks); prints "looped <n>";
//   anything else prints "error unknown command"; end of input exits with status 0.
#include <stdio.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#if defined(__clang__)
#define PROBE_FN __attribute__((noinline, used))
#else
#define PROBE_FN __attribute__((noinline, noipa))
#endif

// Set from x by set_globals() before every fire.
volatile signed char g_s8;
volatile unsigned short g_u16;
volatile int g_s32;
volatile long g_s64;
volatile unsigned long g_u64;
volatile struct {
  long a;
  int b;         // offset 8
  short c;       // offset 12
  signed char d; // offset 14
} g_struct;
volatile double g_double;
volatile float g_float;
__thread int t_val;

// Fixed contents.
volatile long g_arr[4] = {-10000000000001L, 10000000000002L, -10000000000003L, 10000000000004L};
volatile long g_a64[4] = {1111111111111L, -2222222222222L, 3333333333333L, -4444444444444L};
volatile int g_a32[4] = {-1100000, 2200000, -3300000, 4400000};
volatile short g_a16[4] = {-111, 222, -333, 444};
volatile signed char g_a8[4] = {-1, 2, -3, 4};
volatile struct {
  int a;
  int b; // offset 4
} g_pairs[4] = {{1, -5}, {2, 6}, {3, -7}, {4, 8}};
volatile double g_adbl[4] = {0.5, -1.5, 2.25, -3.125};

static void set_globals(int x) {
  g_s8 = (signed char)-(x + 100);
  g_u16 = (unsigned short)(60000 + x);
  g_s32 = -(100000 + x);
  g_s64 = -(5000000000L + x);
  g_u64 = 0xF000000000000000UL + (unsigned long)x;
  g_struct.a = x;
  g_struct.b = -(7 + x);
  g_struct.c = (short)(300 + x);
  g_struct.d = (signed char)-(x + 1);
  g_double = -(x * 2.5);
  g_float = x * 0.75f;
  t_val = 1000 + x;
}

// Parameters: at gcc -O2 a..f arrive in rdi, rsi, rdx, rcx, r8, r9 (read at their own width),
// g and h on the stack.
PROBE_FN void probe_ints(signed char a, short b, int c, long d, signed char e, short f, int g,
                         long h) {
  STAP_PROBE8(argforms, ints, a, b, c, d, e, f, g, h);
}

PROBE_FN void probe_uints(unsigned char a, unsigned short b, unsigned int c, unsigned long d,
                          unsigned char e, unsigned short f, unsigned int g, unsigned long h) {
  STAP_PROBE8(argforms, uints, a, b, c, d, e, f, g, h);
}

PROBE_FN void probe_globals(void) {
  STAP_PROBE9(argforms, globals, g_s8, g_u16, g_s32, g_s64, g_u64, g_struct.b, g_struct.c,
              g_arr[2], &g_s64);
}

// p points at g_a64: p[0] and p[3] are read through a plain base register ((%rdx), 24(%rdx)).
PROBE_FN void probe_arrays(long i, long scale, const volatile long *p) {
  volatile long local[4] = {10 * scale, -20 * scale, 30 * scale, -40 * scale};
  STAP_PROBE9(argforms, arrays, g_a64[i], g_a32[i], g_a16[i], g_a8[i], g_pairs[i].b, local[i],
              g_adbl[i], p[0], p[3]);
}

PROBE_FN void probe_floats(double d, float f) {
  STAP_PROBE6(argforms, floats, d, f, g_double, g_float, d * 2, f * 2);
}

PROBE_FN void probe_consts(void) {
  STAP_PROBE12(argforms, consts, 42, -1, (signed char)-5, (unsigned char)255, (short)-300,
               (unsigned short)65535, -2000000000, 4000000000U, -5000000000L, 0x123456789L,
               0xFEDCBA9876543210UL, 0);
}

PROBE_FN void probe_twelve(int x, long i) {
  STAP_PROBE12(argforms, twelve, x, (long)x * 1000, g_s32, g_a64[i], 7, g_double, &g_arr,
               (short)-x, (unsigned char)(x + 200), g_struct.d, g_float, -(long)x);
}

PROBE_FN void probe_tls(int x) { STAP_PROBE3(argforms, tls, x, t_val, x + 1); }

static void fire(int x) {
  set_globals(x);
  probe_ints((signed char)(x + 10), (short)(1000 + x), 100000 + x, 5000000000L + x,
             (signed char)-(x + 100), (short)-(30000 + x), -(2000000000 + x),
             -(6000000000L + x));
  probe_uints((unsigned char)(200 + x), (unsigned short)(65000 + x), 4000000000U + x,
              0xF000000000000000UL + x, (unsigned char)x, (unsigned short)(2 + x), 3U + x,
              4UL + x);
  probe_globals();
  probe_arrays(x & 3, x, g_a64);
  probe_floats(x + 0.5, -(x + 0.25f));
  probe_consts();
  probe_twelve(x, x & 3);
  probe_tls(x);
}

int main(void) {
  char line[128];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready pid=%d g_s64=%p g_arr=%p\n", (int)getpid(), (void *)&g_s64, (void *)&g_arr);
  while (fgets(line, sizeof line, stdin)) {
    int x;
    long n;
    if (sscanf(line, "fire %d", &x) == 1 && x >= 0 && x < 100) {
      fire(x);
      printf("fired %d\n", x);
    } else if (sscanf(line, "loop %ld", &n) == 1) {
      for (long i = 0; i < n; i++)
        fire(1);
      printf("looped %ld\n", n);
    } else {
      printf("error unknown command\n");
    }
  }
  return 0;
}
