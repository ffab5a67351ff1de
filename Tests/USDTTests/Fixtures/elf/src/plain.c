/* Probes without a semaphore. "twice" is expanded at two sites, so it has two notes. */
#include <sys/sdt.h>

static inline __attribute__((always_inline)) void twice(int x) { STAP_PROBE1(test, twice, x); }

int fixture_plain(int a, long b) {
  STAP_PROBE(test, noargs);
  STAP_PROBE2(test, two, a, b);
  twice(a);
  twice(a + 1);
  return a + (int)b;
}
