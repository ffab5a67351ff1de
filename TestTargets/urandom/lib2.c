// Part of the mirror of the kernel selftest urandom_read (urandom_read_lib2.c): the shared
// library's semaphore-less probe urandlib:read_without_sema. Linked into
// libsharedprobes-<toolchain>.so. Also exports urandlib_anchor(), the address of a function
// inside the library, which the executables pass to dladdr() to report which .so is mapped.
// Protocol: see urandom_read.c and sharedlib_user.c.
#include <sys/sdt.h>

void urandlib_read_without_sema(int iter_num, int iter_cnt, int read_sz) {
  STAP_PROBE3(urandlib, read_without_sema, iter_num, iter_cnt, read_sz);
}

// A static function's address is always the library's own (never a PLT stub in the executable).
static void anchor(void) {}
void *urandlib_anchor(void) { return (void *)anchor; }
