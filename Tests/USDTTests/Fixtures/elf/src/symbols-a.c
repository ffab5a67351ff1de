/* Symbol fixture, unit A: the global `gvar` and a file-local `counter`. At -O2 gcc passes
   both to the probe as RIP-relative memory operands (`-4@gvar(%rip) -4@counter(%rip)`). */
#include <sys/sdt.h>

int gvar = 42;
static int counter;

int symbols_b(int);

int main(int argc, char **argv) {
  (void)argv;
  STAP_PROBE2(test, globals_a, gvar, counter);
  counter += argc;
  return symbols_b(argc) + counter;
}
