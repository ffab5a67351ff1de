// Declarations shared by urandom_read.c and sharedlib_user.c (the mirror of the kernel selftest
// urandom_read): the library's functions, and the "ready" line every target prints first.
#ifndef URANDLIB_H
#define URANDLIB_H
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUF_SIZE 256

void urandlib_read_with_sema(int iter_num, int iter_cnt, int read_sz);    // lib1.c
void urandlib_read_without_sema(int iter_num, int iter_cnt, int read_sz); // lib2.c
void *urandlib_anchor(void);                                              // lib2.c

// Prints "ready pid=<pid> lib=<absolute path of the mapped libsharedprobes .so>
// libsema=<runtime address of urandlib_read_with_sema_semaphore>" followed by `extra`.
// The semaphore is looked up with dlsym, never referenced directly: a direct reference from a
// (PIE) executable could make the linker copy-relocate it out of the library.
static inline void print_ready(const char *extra) {
  Dl_info info;
  char path[PATH_MAX];
  const char *lib = "?";
  if (dladdr(urandlib_anchor(), &info) && info.dli_fname)
    lib = realpath(info.dli_fname, path) ? path : info.dli_fname;
  void *libsema = dlsym(RTLD_DEFAULT, "urandlib_read_with_sema_semaphore");
  printf("ready pid=%d lib=%s libsema=%p%s\n", (int)getpid(), lib, libsema, extra);
}
#endif
