# Test targets that mirror more kernel BPF selftests (see /work/shared/reference/selftests.md).
# Included by the main Makefile, which defines OUT (TestTargets/out), CLANG and the $(OUT) rule
# first; this fragment only adds its outputs to EXTRA_TARGETS and defines their rules.
#
#   urandom_read-{clang,gcc}, libsharedprobes-{clang,gcc}.so, sharedlib_user-{clang,gcc}
#       selftest urandom_read / liburandom_read.so (usdt/urand_*). The clang builds link with lld
#       -z noseparate-code, so executable PT_LOADs have vaddr != file offset; the gcc builds use
#       GNU ld. Executables find their library through rpath $ORIGIN.
#   multispec   selftest usdt/multispec (100 / 300+1 / 400 sites; gcc, see multispec.c)
#   pidfilter   uprobe_multi_test's pid filter (child process / child thread)
#   manysites   bench_usdt's target (one probe, 50 000 sites, generated with .rept)

TT_DIR      := TestTargets
TT_CFLAGS   := -O2 -g -Wall
TT_LDCOMMON := -Wl,--build-id=sha1
TT_TOOLCHAINS := clang gcc
TT_CC_clang  = $(CLANG)
TT_CC_gcc    = gcc
TT_LD_clang := -fuse-ld=lld -Wl,-z,noseparate-code
TT_LD_gcc   :=

TT_URAND_LIBS  := $(TT_TOOLCHAINS:%=$(OUT)/libsharedprobes-%.so)
TT_URAND_EXES  := $(TT_TOOLCHAINS:%=$(OUT)/urandom_read-%)
TT_SHLIB_USERS := $(TT_TOOLCHAINS:%=$(OUT)/sharedlib_user-%)

EXTRA_TARGETS += $(TT_URAND_LIBS) $(TT_URAND_EXES) $(TT_SHLIB_USERS) \
                 $(OUT)/multispec $(OUT)/pidfilter $(OUT)/manysites

$(TT_URAND_LIBS): $(OUT)/libsharedprobes-%.so: $(TT_DIR)/urandom/lib1.c $(TT_DIR)/urandom/lib2.c | $(OUT)
	$(TT_CC_$*) $(TT_CFLAGS) -fPIC -shared $(TT_LD_$*) $(TT_LDCOMMON) -Wl,-soname,$(@F) -o $@ $^

$(TT_URAND_EXES): $(OUT)/urandom_read-%: $(TT_DIR)/urandom/urandom_read.c $(TT_DIR)/urandom/urandom_read_aux.c \
                  $(TT_DIR)/urandom/urandlib.h $(OUT)/libsharedprobes-%.so | $(OUT)
	$(TT_CC_$*) $(TT_CFLAGS) $(TT_LD_$*) $(TT_LDCOMMON) -o $@ $(filter %.c,$^) \
	  -L$(OUT) -l:libsharedprobes-$*.so -Wl,-rpath,'$$ORIGIN' -ldl

$(TT_SHLIB_USERS): $(OUT)/sharedlib_user-%: $(TT_DIR)/urandom/sharedlib_user.c $(TT_DIR)/urandom/urandlib.h \
                   $(OUT)/libsharedprobes-%.so | $(OUT)
	$(TT_CC_$*) $(TT_CFLAGS) $(TT_LD_$*) $(TT_LDCOMMON) -o $@ $(filter %.c,$^) \
	  -L$(OUT) -l:libsharedprobes-$*.so -Wl,-rpath,'$$ORIGIN' -ldl

# gcc: every literal argument becomes its own "-4@$N" spec, and the extra usdt_300 site a register
# ("-4@%edi"); clang -O2 on x86-64 gives the same counts (its variable site is "-4@-4(%rsp)").
$(OUT)/multispec: $(TT_DIR)/multispec/multispec.c | $(OUT)
	gcc $(TT_CFLAGS) -o $@ $<

# Not position-independent: its sites have one address in every process, so the no-cookie
# (IP map) path can attach it for every process, as libbpf does for ET_EXEC files.
$(OUT)/pidfilter: $(TT_DIR)/pidfilter/pidfilter.c | $(OUT)
	gcc $(TT_CFLAGS) -no-pie -pthread -o $@ $<

$(OUT)/manysites: $(TT_DIR)/manysites/manysites.c | $(OUT)
	gcc $(TT_CFLAGS) -o $@ $<
