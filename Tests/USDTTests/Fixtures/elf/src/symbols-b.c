/* Symbol fixture, unit B: another file-local `counter` at a different address, so the name
   in `counter(%rip)` alone cannot say which one a probe reads. */
#include <sys/sdt.h>

extern int gvar;
static int counter = 7;

int symbols_b(int x) {
  STAP_PROBE2(test, globals_b, gvar, counter);
  counter += x;
  return counter + gvar;
}
