// Part of the mirror of the kernel selftest urandom_read (urandom_read_lib1.c): the shared
// library's probe urandlib:read_with_sema, whose semaphore lives in the .so's own ".probes"
// section (so a tracer must compute ref_ctr_offset inside the library). The probe fires
// unconditionally, as in the selftest. Linked into libsharedprobes-<toolchain>.so.
// Protocol: see urandom_read.c and sharedlib_user.c.
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short urandlib_read_with_sema_semaphore __attribute__((section(".probes"), used));

void urandlib_read_with_sema(int iter_num, int iter_cnt, int read_sz) {
  STAP_PROBE3(urandlib, read_with_sema, iter_num, iter_cnt, read_sz);
}
