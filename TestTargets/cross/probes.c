/*
 * Cross-architecture USDT fixture: one translation unit whose probes force the interesting operand
 * forms of every architecture's argument grammar. cross.mk builds it freestanding (no libc) for
 * each target at -O2 and -O0 and links it with ld.lld -shared into $(OUT)/cross/<arch>[-O0].so;
 * Tests/USDTTests/Cross pins what the library decodes from each build
 * (Tests/USDTTests/Fixtures/cross/<arch>[-O0].json).
 *
 * sdt.h hands every argument to its asm with the constraint STAP_SDT_ARG_CONSTRAINT ("nor" on
 * most targets, "g" on arm, "nZr" on powerpc). clang meets "nor"/"g" by spilling to a stack slot
 * (or to memory a register points at), so real clang binaries show almost only memory operands.
 * sdt.h reads the macro when a probe expands, so this file redefines it per group of probes to
 * reach the other forms too. Probes, in source order (one note each):
 *
 *   probe          constraint  what it forces
 *   cross:small    nr          1- and 2-byte parameters in registers, signed and unsigned
 *   cross:regs     nr          4- and 8-byte (int, long) parameters in registers, both signs
 *   cross:wide     nr          long long, unsigned long long, a pointer: a register pair on 32-bit
 *   cross:fp       nr          a float and a double parameter, moved into general registers
 *   cross:stack    m           the 9th..12th parameters, in their incoming stack slots on most ABIs
 *   cross:global   m           a global int and long (symbol-relative where the target has it)
 *   cross:array    m           an element of a global array and of a parameter array (indexed)
 *   cross:fpmem    m           a global float and double in memory
 *   cross:consts   default     constants 42, -1, -5000000000, 0 and (unsigned char)255
 *   cross:spill    default     the parameters of cross:small and cross:regs where the default
 *                              constraint leaves them
 *   cross:twelve   default     12 arguments, libbpf's maximum
 *   cross:noargs   -           no arguments
 *   cross:sema     default     guarded by a semaphore (cross_sema_semaphore in .probes)
 *
 * cross:small and cross:regs are two probes, not one with 8 arguments, because i386 has only four
 * byte registers: with 8 register operands clang puts a char in %ch, and sdt.h's %k operand
 * modifier names it %ecx, which reads %cl instead (gcc PR80115 / sourceware PR24541).
 *
 * Globals are hidden so that -fPIC code addresses them directly (x86-64 `sym(%rip)`, i386
 * `sym@GOTOFF(%reg)`) rather than loading their address from the GOT. Every function is exported
 * and noinline, so -O2 keeps each probe's one site.
 */
#include <sys/sdt.h>

#define EXPORT __attribute__((visibility("default"), noinline))
#define HIDDEN __attribute__((visibility("hidden")))

/* sdt.h's own per-target default (see its STAP_SDT_ARG_CONSTRAINT), restored further down. */
#if defined __powerpc__
#define DEFAULT_CONSTRAINT nZr
#elif defined __arm__
#define DEFAULT_CONSTRAINT g
#else
#define DEFAULT_CONSTRAINT nor
#endif

HIDDEN int cross_int = 7;
HIDDEN long cross_long = -7;
HIDDEN long cross_array[8] = {1, 2, 3, 4, 5, 6, 7, 8};
HIDDEN float cross_float = 1.5f;
HIDDEN double cross_double = 2.5;

/* ---- registers (and constants) only ---- */
#undef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT nr

EXPORT void cross_small(signed char c, unsigned char uc, short s, unsigned short us) {
  STAP_PROBE4(cross, small, c, uc, s, us);
}

EXPORT void cross_regs(int i, unsigned int u, long l, unsigned long ul) {
  STAP_PROBE4(cross, regs, i, u, l, ul);
}

EXPORT void cross_wide(long long ll, unsigned long long ull, const void *p) {
  STAP_PROBE3(cross, wide, ll, ull, p);
}

EXPORT void cross_fp(float f, double d) {
  STAP_PROBE2(cross, fp, f, d);
}

/* ---- memory only ---- */
#undef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT m

EXPORT void cross_stack(long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8,
                        int a9, short a10, signed char a11, long a12) {
  STAP_PROBE4(cross, stack, a9, a10, a11, a12);
}

EXPORT void cross_global(void) {
  STAP_PROBE2(cross, global, cross_int, cross_long);
}

EXPORT void cross_array_read(int index, const int *values) {
  STAP_PROBE2(cross, array, cross_array[index], values[index]);
}

EXPORT void cross_fpmem(void) {
  STAP_PROBE2(cross, fpmem, cross_float, cross_double);
}

/* ---- sdt.h's default ---- */
#undef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT DEFAULT_CONSTRAINT

EXPORT void cross_consts(void) {
  STAP_PROBE5(cross, consts, 42, -1, -5000000000LL, 0, (unsigned char)255);
}

EXPORT void cross_spill(signed char c, unsigned char uc, short s, unsigned short us, int i,
                        unsigned int u, long l, unsigned long ul) {
  STAP_PROBE8(cross, spill, c, uc, s, us, i, u, l, ul);
}

EXPORT void cross_twelve(long a1, long a2, long a3, long a4, long a5, long a6, long a7, long a8,
                         long a9, long a10, long a11, long a12) {
  STAP_PROBE12(cross, twelve, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
}

EXPORT void cross_noargs(void) {
  STAP_PROBE(cross, noargs);
}

/*
 * sdt.h decides at #include time, for the whole unit, whether notes name a semaphore
 * (_SDT_HAS_SEMAPHORES). This unit wants exactly one such probe, so it switches sdt.h's two
 * semaphore macros to their _SDT_HAS_SEMAPHORES definitions for the last probe only.
 */
__extension__ unsigned short cross_sema_semaphore __attribute__((section(".probes"))) = 0;
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n) _SDT_ASM_1(_SDT_ASM_ADDR p##_##n##_semaphore)
#undef _SDT_NOTE_SEMAPHORE_USE
#define _SDT_NOTE_SEMAPHORE_USE(provider, name) \
  __asm__ __volatile__("" ::"m"(provider##_##name##_semaphore));

EXPORT int cross_sema(int value) {
  if (cross_sema_semaphore) STAP_PROBE1(cross, sema, value);
  return value + 1;
}
