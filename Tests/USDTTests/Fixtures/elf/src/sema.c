/* A probe with a semaphore: _SDT_HAS_SEMAPHORES makes every probe in this unit use one. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short test_sema_semaphore __attribute__((section(".probes"))) = 0;

int fixture_sema(int a, long b, char c) {
  DTRACE_PROBE3(test, sema, a, b, c);
  return a + (int)b + c;
}
