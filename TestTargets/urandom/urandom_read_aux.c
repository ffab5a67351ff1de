// Part of the mirror of the kernel selftest urandom_read (tools/testing/selftests/bpf/
// urandom_read_aux.c): the semaphore-less probe urand:read_without_sema, in its own translation
// unit, compiled WITHOUT _SDT_HAS_SEMAPHORES so its note has semaphore address 0.
// Protocol: see urandom_read.c.
#include <sys/sdt.h>

void urand_read_without_sema(int iter_num, int iter_cnt, int read_sz) {
  STAP_PROBE3(urand, read_without_sema, iter_num, iter_cnt, read_sz);
}
