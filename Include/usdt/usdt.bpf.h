/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SwiftUSDT's BPF-side USDT header: a drop-in superset of libbpf's <bpf/usdt.bpf.h>.
 *
 * A BPF program includes this header (instead of libbpf's) to read USDT arguments in a
 * SEC("usdt") program attached by SwiftUSDT. The library parses each probe's argument string
 * (`.note.stapsdt`), encodes one `struct __bpf_usdt_spec` per distinct string into the
 * `__bpf_usdt_specs` ARRAY map, and attaches a uprobe whose BPF cookie is the spec's index.
 * Without BPF cookies (kernels before 5.15) the spec ID is looked up by the probe's absolute
 * address in `__bpf_usdt_ip_to_spec_id`, exactly as libbpf does.
 *
 * Same API as libbpf (1.1-1.7): the maps `__bpf_usdt_specs` / `__bpf_usdt_ip_to_spec_id`
 * (__weak, sizes from BPF_USDT_MAX_SPEC_CNT / BPF_USDT_MAX_IP_CNT), the kconfig extern
 * LINUX_HAS_BPF_COOKIE, bpf_usdt_arg_cnt(), bpf_usdt_arg_size(), bpf_usdt_arg(),
 * bpf_usdt_cookie() and BPF_USDT(name, args...), with the same return values.
 *
 * Spec layout (SwiftUSDT reads it from the object's BTF, by member name; x86-64/LE offsets):
 *
 *   struct __bpf_usdt_arg_spec {          24 bytes
 *     __u64 val_off;                       0  constant (CONST) or displacement (DEREF, SIB)
 *     enum __bpf_usdt_arg_type arg_type;   8  4-byte enum, values below
 *     short reg_off;                      12  base register's offset in struct pt_regs
 *     bool arg_signed;                    14  sign-extend (else zero-extend) the value
 *     char arg_bitshift;                  15  64 - 8 * size: 56, 48, 32 or 0
 *     short idx_reg_off;                  16  SIB index register's offset in struct pt_regs
 *     char scale_bitshift;                18  SIB scale = 1 << scale_bitshift
 *     char arg_flags;                     19  BPF_USDT_ARG_FLAG_FLOAT (bit 0): raw IEEE bits
 *   };                                        (20-23 padding)
 *   struct __bpf_usdt_spec {             304 bytes
 *     struct __bpf_usdt_arg_spec args[12]; 0
 *     __u64 usdt_cookie;                 288
 *     short arg_cnt;                     296  (298-303 padding)
 *   };
 *   enum __bpf_usdt_arg_type: CONST 0, REG 1, REG_DEREF 2, SIB 3, UNAVAILABLE 4.
 *
 * The first 16 bytes of an argument are libbpf 1.1-1.6's layout unchanged (reg_off stays at
 * 12); the SIB fields are plain members appended after them, not libbpf 1.7's bitfields. The
 * total (24/304) equals libbpf 1.7's by coincidence only: never tell the layouts apart by size.
 *
 * Differences from libbpf's header:
 *  - SIB operands (`-8@(%rax,%rdx,8)`, `4(%rbx,%rcx,4)`): 8 bytes read at
 *    base + (index << scale_bitshift) + val_off, as libbpf 1.7 does (libbpf <= 1.6 has no SIB).
 *  - BPF_USDT_ARG_UNAVAILABLE: an argument a uprobe cannot read (`%xmm0`, `%fs:` TLS, an
 *    unresolved symbol). bpf_usdt_arg() returns -ENODATA for it alone; the probe still
 *    attaches and its other arguments decode. libbpf refuses to attach such a probe.
 *  - arg_flags / bpf_usdt_arg_is_float(): `4f@`/`8f@` arguments are marked; their value is
 *    the raw float/double bits (zero-extended), which libbpf cannot attach at all.
 *  - bpf_usdt_arg_available().
 *  - One spec lookup per hit. BPF_USDT() looks the spec up once and decodes all its arguments
 *    with bpf_usdt_args(); libbpf repeats the cookie (or IP-map) lookup and the spec lookup
 *    for every argument. Hand-written programs get the same path from bpf_usdt_spec() and
 *    then bpf_usdt_args() (all at once), bpf_usdt_arg_spec() (one argument) and the
 *    bpf_usdt_spec_*() accessors.
 *  - One user-memory read for the stack slots of a hit: with 4 or more arguments
 *    (BPF_USDT_WINDOW_MIN_ARGS), bpf_usdt_args() reads the span the REG_DEREF arguments on one
 *    base register cover (`-4@-20(%rbp) -8@-32(%rbp)`, clang's `-N(%rsp)`) once, instead of
 *    one bpf_probe_read_user() per argument; see BPF_USDT_WINDOW_SIZE. Values and errors stay
 *    what per-argument reads give.
 *  - On x86-64 (with clang), registers are read straight from the context (a switch over the
 *    21 pt_regs slots) instead of with one bpf_probe_read_kernel() call per register. Define
 *    BPF_USDT_NO_DIRECT_REGS to read them the way libbpf does.
 *  Measured with BPF_USDT() on one Linux 6.18 VM (AMD EPYC; bpf_stats run time per hit,
 *  medians, including ~65 ns that an empty program also takes), against libbpf 1.1.2's header:
 *    3 registers                                  110 ns   libbpf 275 ns   0.40x
 *    2 registers + 1 memory operand               245 ns          380 ns   0.64x
 *    8 stack slots (clang -O2 -N(%rsp), gcc -O0)  400 ns         1330 ns   0.30x
 *    6 registers + 2 stack slots (gcc -O2)        415 ns          790 ns   0.53x
 *    6 registers + 6 memory operands              440 ns         1360 ns   0.32x
 *  The price: BPF_USDT() takes 8 * (args + 1) bytes of the 512-byte BPF stack, plus 160 for
 *  the window with 4 or more arguments; and the verifier walks more instructions (about 70k
 *  for 12 arguments, 2k for 3, against 2k and 0.4k for libbpf's BPF_USDT()).
 *
 * Include either this header or <bpf/usdt.bpf.h>, not both: they define the same names (this
 * one uses libbpf's include guard, so including libbpf's afterwards is a no-op).
 *
 * Needs, like libbpf's: `bool` (<stdbool.h> or vmlinux.h), the __u64 types, struct pt_regs,
 * and a target architecture (-D__TARGET_ARCH_x86) for bpf_tracing.h.
 */
#if defined(__USDT_BPF_H__) && !defined(__SWIFTUSDT_USDT_BPF_H__)
#error "<bpf/usdt.bpf.h> (libbpf's) was included before \"usdt/usdt.bpf.h\" (SwiftUSDT's): include only one"
#endif
#ifndef __USDT_BPF_H__
#define __USDT_BPF_H__
#define __SWIFTUSDT_USDT_BPF_H__ 1

#include <linux/errno.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef ENODATA
#define ENODATA 61
#endif

/* Maximum number of distinct argument specs (one per distinct argument string per attach).
 * Can be overridden before the include, or resized before load.
 */
#ifndef BPF_USDT_MAX_SPEC_CNT
#define BPF_USDT_MAX_SPEC_CNT 256
#endif
/* Maximum number of probe addresses in the IP -> spec ID map, which is used only when the
 * kernel has no BPF cookies (it could be resized to 1 otherwise).
 */
#ifndef BPF_USDT_MAX_IP_CNT
#define BPF_USDT_MAX_IP_CNT (4 * BPF_USDT_MAX_SPEC_CNT)
#endif

enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST = 0,		/* "-4@$-9": the value is val_off */
	BPF_USDT_ARG_REG = 1,		/* "8@%rax": the register at reg_off */
	BPF_USDT_ARG_REG_DEREF = 2,	/* "-4@-1204(%rbp)": memory at reg + val_off */
	BPF_USDT_ARG_SIB = 3,		/* "-8@16(%rax,%rdx,8)": memory at reg + (idx << scale) + val_off */
	BPF_USDT_ARG_UNAVAILABLE = 4,	/* cannot be read from a uprobe: -ENODATA */
};

/* arg_flags bits */
#define BPF_USDT_ARG_FLAG_FLOAT 0x1	/* a float or double ("4f@", "8f@"): the raw IEEE bits */

struct __bpf_usdt_arg_spec {
	/* u64 scalar interpreted depending on arg_type: the constant, or the displacement */
	__u64 val_off;
	/* how to find the value, see __bpf_usdt_arg_from_spec() */
	enum __bpf_usdt_arg_type arg_type;
	/* offset of the (base) register within struct pt_regs */
	short reg_off;
	/* whether the value is sign-extended (else zero-extended) to 64 bits */
	bool arg_signed;
	/* 64 - 8 * size: the bits to clear (or sign-fill) above a 1, 2 or 4-byte value */
	char arg_bitshift;
	/* BPF_USDT_ARG_SIB: offset of the index register within struct pt_regs */
	short idx_reg_off;
	/* BPF_USDT_ARG_SIB: scale = 1 << scale_bitshift (0-3) */
	char scale_bitshift;
	/* BPF_USDT_ARG_FLAG_* */
	char arg_flags;
};

/* should match the library's maximum argument count exactly */
#define BPF_USDT_MAX_ARG_CNT 12
struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[BPF_USDT_MAX_ARG_CNT];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_USDT_MAX_SPEC_CNT);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_USDT_MAX_IP_CNT);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps") __weak;

/* Set by the loader from its BPF-cookie feature probe. */
extern const _Bool LINUX_HAS_BPF_COOKIE __kconfig;

/* The spec ID of the probe that fired: the BPF cookie, or the IP map's entry; -ESRCH if none. */
static __always_inline
int __bpf_usdt_spec_id(struct pt_regs *ctx)
{
	if (!LINUX_HAS_BPF_COOKIE) {
		long ip = PT_REGS_IP(ctx);
		int *spec_id_ptr;

		spec_id_ptr = bpf_map_lookup_elem(&__bpf_usdt_ip_to_spec_id, &ip);
		return spec_id_ptr ? *spec_id_ptr : -ESRCH;
	}

	return bpf_get_attach_cookie(ctx);
}

/* The spec of the probe that fired, or NULL (every bpf_usdt_spec_*() accessor and
 * bpf_usdt_arg_spec() then return what the ctx-based functions return without a spec).
 * Look it up once per hit and pass it on, instead of calling the ctx-based functions for
 * every argument.
 */
static __always_inline
const struct __bpf_usdt_spec *bpf_usdt_spec(struct pt_regs *ctx)
{
	int spec_id = __bpf_usdt_spec_id(ctx);

	if (spec_id < 0)
		return NULL;
	return bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);
}

/* Points *arg_spec at argument arg_num of spec: 0, -ESRCH without a spec, or -ENOENT. */
static __always_inline
int __bpf_usdt_spec_arg(const struct __bpf_usdt_spec *spec, __u64 arg_num,
			const struct __bpf_usdt_arg_spec **arg_spec)
{
	if (!spec)
		return -ESRCH;
	if (arg_num >= BPF_USDT_MAX_ARG_CNT)
		return -ENOENT;
	/* keep the verifier's bound on arg_num (libbpf 1.7; an s390x verifier failure) */
	barrier_var(arg_num);
	if (arg_num >= spec->arg_cnt)
		return -ENOENT;
	*arg_spec = &spec->args[arg_num];
	return 0;
}

/* Reads the pt_regs slot at reg_off into *val; 0 or the probe-read error. */
static __always_inline
int __bpf_usdt_read_reg(struct pt_regs *ctx, short reg_off, unsigned long *val)
{
#if defined(bpf_target_x86) && defined(__clang__) && !defined(BPF_USDT_NO_DIRECT_REGS)
	/* x86-64's struct pt_regs is 21 8-byte slots (168 bytes). A uprobe's context may be
	 * loaded only at constant offsets, so switch over them: a few compares instead of a
	 * helper call. Any other offset falls through to libbpf's probe read. The loads are
	 * written in (clang's) asm because the compiler would otherwise hoist the 21
	 * `ctx + off` pointers out of the switch, and the verifier rejects loads through a
	 * modified ctx.
	 */
#define __BPF_USDT_REG_CASE(off) \
	case (off): asm volatile("%0 = *(u64 *)(%1 + " #off ")" : "=r"(*val) : "r"(ctx)); return 0;
	switch (reg_off) {
	__BPF_USDT_REG_CASE(0)   __BPF_USDT_REG_CASE(8)   __BPF_USDT_REG_CASE(16)
	__BPF_USDT_REG_CASE(24)  __BPF_USDT_REG_CASE(32)  __BPF_USDT_REG_CASE(40)
	__BPF_USDT_REG_CASE(48)  __BPF_USDT_REG_CASE(56)  __BPF_USDT_REG_CASE(64)
	__BPF_USDT_REG_CASE(72)  __BPF_USDT_REG_CASE(80)  __BPF_USDT_REG_CASE(88)
	__BPF_USDT_REG_CASE(96)  __BPF_USDT_REG_CASE(104) __BPF_USDT_REG_CASE(112)
	__BPF_USDT_REG_CASE(120) __BPF_USDT_REG_CASE(128) __BPF_USDT_REG_CASE(136)
	__BPF_USDT_REG_CASE(144) __BPF_USDT_REG_CASE(152) __BPF_USDT_REG_CASE(160)
	default:
		break;
	}
#undef __BPF_USDT_REG_CASE
#endif
	return bpf_probe_read_kernel(val, sizeof(*val), (void *)ctx + reg_off);
}

/* Stack-slot arguments usually share a base register ("-4@-20(%rbp) -8@-32(%rbp)" at -O0,
 * "-4@-28(%rsp) ..." at clang -O2), and a user-memory read costs the same for 8 bytes as for
 * 128. So bpf_usdt_args() (and BPF_USDT()), at the first REG_DEREF argument, looks for later
 * ones on the same base register; if there are any and the span they all cover fits in
 * BPF_USDT_WINDOW_SIZE bytes, it reads that span once and takes each of those arguments' 8
 * bytes from the copy. Any other argument, or all of them if the span cannot be read, is read
 * as libbpf reads it, so the values and errors are the same.
 *
 * The window's code costs a little on every hit (15-40 ns measured, for a 3-argument probe
 * with registers and one stack slot) and saves a probe read (~130 ns) per shared stack slot,
 * so it is used only when at least BPF_USDT_WINDOW_MIN_ARGS arguments are decoded (n is a
 * constant in BPF_USDT(), so below that the code is not even generated). Define
 * BPF_USDT_WINDOW_SIZE as 0 to turn it off (it needs variable-offset stack reads, Linux 5.12+).
 */
#ifndef BPF_USDT_WINDOW_SIZE
#define BPF_USDT_WINDOW_SIZE 128
#endif
#ifndef BPF_USDT_WINDOW_MIN_ARGS
#define BPF_USDT_WINDOW_MIN_ARGS 4
#endif

struct __bpf_usdt_window {
#if BPF_USDT_WINDOW_SIZE > 0
	/* 8-aligned (the verifier wants aligned stack loads), 8 spare bytes for the second word
	 * an unaligned argument is assembled from
	 */
	unsigned long buf[BPF_USDT_WINDOW_SIZE / 8 + 1];
#endif
	unsigned long lo;	/* the val_off that buf[0] holds */
	unsigned long len;	/* bytes in buf; 0 = no window */
	short reg_off;		/* the arguments' base register */
	char planned;		/* the first REG_DEREF argument has been met */
};

static __always_inline
void __bpf_usdt_window_plan(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec, int first,
			    int n, struct __bpf_usdt_window *win);

/* Decodes argument arg_num of an already looked-up spec into *res, taking stack slots from
 * win (NULL: none) when it holds them; n is the number of arguments bpf_usdt_args() decodes
 * (its window covers no more). Returns 0, or -ESRCH (no spec), -ENOENT (no such
 * argument), -ENODATA (unavailable), -EINVAL (unknown arg_type) or a probe-read error; *res
 * is 0 on any error.
 */
static __always_inline
int __bpf_usdt_arg_decode(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec,
			  __u64 arg_num, long *res, struct __bpf_usdt_window *win, int n)
{
	const struct __bpf_usdt_arg_spec *arg_spec;
	unsigned long val, idx;
	int err;

	*res = 0;

	err = __bpf_usdt_spec_arg(spec, arg_num, &arg_spec);
	if (err)
		return err;

	switch (arg_spec->arg_type) {
	case BPF_USDT_ARG_CONST:
		/* "-4@$-9": the value is val_off itself */
		val = arg_spec->val_off;
		break;
	case BPF_USDT_ARG_REG:
	case BPF_USDT_ARG_REG_DEREF:
	case BPF_USDT_ARG_SIB:
#if BPF_USDT_WINDOW_SIZE > 0
		if (win && arg_spec->arg_type == BPF_USDT_ARG_REG_DEREF && !win->planned)
			__bpf_usdt_window_plan(ctx, spec, arg_num, n, win);
		if (win && win->len && arg_spec->arg_type == BPF_USDT_ARG_REG_DEREF &&
		    arg_spec->reg_off == win->reg_off) {
			unsigned long off = arg_spec->val_off - win->lo;

			if (off <= BPF_USDT_WINDOW_SIZE - sizeof(val) && off + sizeof(val) <= win->len) {
				/* the 8 bytes at off, from the two aligned words they span; the
				 * double shift makes shift == 0 give 0, not the word unshifted
				 */
				unsigned long w0 = win->buf[off / 8], w1 = win->buf[off / 8 + 1];
				unsigned long shift = (off % 8) * 8;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
				val = (w0 << shift) | ((w1 >> 1) >> (63 - shift));
#else
				val = (w0 >> shift) | ((w1 << 1) << (63 - shift));
#endif
				goto loaded;
			}
		}
#endif
		/* "8@%rax": the register's pt_regs slot */
		err = __bpf_usdt_read_reg(ctx, arg_spec->reg_off, &val);
		if (err)
			return err;
		if (arg_spec->arg_type == BPF_USDT_ARG_REG)
			break;
		/* "-4@-1204(%rbp)": 8 bytes of user memory at register + val_off;
		 * "-2@(%rdx,%rax,2)": at base + (index << scale) + val_off (libbpf 1.7)
		 */
		if (arg_spec->arg_type == BPF_USDT_ARG_SIB) {
			err = __bpf_usdt_read_reg(ctx, arg_spec->idx_reg_off, &idx);
			if (err)
				return err;
			val += idx << arg_spec->scale_bitshift;
		}
		err = bpf_probe_read_user(&val, sizeof(val), (void *)val + arg_spec->val_off);
		if (err)
			return err;
#if BPF_USDT_WINDOW_SIZE > 0
loaded:
#endif
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		val >>= arg_spec->arg_bitshift;
#endif
		break;
	case BPF_USDT_ARG_UNAVAILABLE:
		/* the library could not express this operand (%xmm0, %fs: TLS, ...) */
		return -ENODATA;
	default:
		return -EINVAL;
	}

	/* cast a 1, 2 or 4-byte value to 8 bytes: clear the upper arg_bitshift bits, or fill
	 * them with the sign bit if the argument is signed
	 */
	val <<= arg_spec->arg_bitshift;
	if (arg_spec->arg_signed)
		val = ((long)val) >> arg_spec->arg_bitshift;
	else
		val = val >> arg_spec->arg_bitshift;
	*res = val;
	return 0;
}

/* Decodes argument arg_num of an already looked-up spec into *res: bpf_usdt_arg() without
 * the spec lookup (same return values).
 */
static __always_inline
int __bpf_usdt_arg_from_spec(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec,
			     __u64 arg_num, long *res)
{
	return __bpf_usdt_arg_decode(ctx, spec, arg_num, res, NULL, 0);
}

/* Widens [*lo, *hi] to argument j of spec if it is a REG_DEREF on reg_off; sets *shared. */
static __always_inline
void __bpf_usdt_window_add(const struct __bpf_usdt_spec *spec, int j, int cnt, short reg_off,
			   long *lo, long *hi, int *shared)
{
	const struct __bpf_usdt_arg_spec *arg_spec = &spec->args[j];
	long off, d, m;

	if (j >= cnt || arg_spec->arg_type != BPF_USDT_ARG_REG_DEREF ||
	    arg_spec->reg_off != reg_off)
		return;
	off = arg_spec->val_off;
	/* Branchless min/max: comparing two unknown values would split the verifier's states
	 * at every argument (2.4x the instructions it walks for 12 arguments). Wrapping
	 * (|off - lo| >= 2^63) only misplaces the window: each argument is checked against the
	 * bytes actually read before it is taken from them.
	 */
	d = (long)((unsigned long)off - (unsigned long)*lo);
	m = d >> 63;
	barrier_var(m);
	*lo += d & m;
	d = (long)((unsigned long)off - (unsigned long)*hi);
	m = d >> 63;
	barrier_var(m);
	*hi += d & ~m;
	*shared = 1;
}

/* Plans (and reads) the window at the first REG_DEREF argument, first, of the n that
 * bpf_usdt_args() decodes: see BPF_USDT_WINDOW_SIZE. The steps are spelled out because
 * `#pragma unroll` fails on these loops once the bodies are inlined; with first and n
 * constant, only the steps after first remain.
 */
static __always_inline
void __bpf_usdt_window_plan(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec, int first,
			    int n, struct __bpf_usdt_window *win)
{
#if BPF_USDT_WINDOW_SIZE > 0
	const struct __bpf_usdt_arg_spec *arg_spec = &spec->args[first];
	short reg_off = arg_spec->reg_off;
	long lo = arg_spec->val_off, hi = lo;
	int cnt = spec->arg_cnt, shared = 0;
	unsigned long base, len;

	win->planned = 1;
#define __BPF_USDT_ADD(j) \
	if ((j) > first && (j) < n) __bpf_usdt_window_add(spec, j, cnt, reg_off, &lo, &hi, &shared);
	__BPF_USDT_ADD(1) __BPF_USDT_ADD(2)  __BPF_USDT_ADD(3)  __BPF_USDT_ADD(4)
	__BPF_USDT_ADD(5) __BPF_USDT_ADD(6)  __BPF_USDT_ADD(7)  __BPF_USDT_ADD(8)
	__BPF_USDT_ADD(9) __BPF_USDT_ADD(10) __BPF_USDT_ADD(11)
#undef __BPF_USDT_ADD
	if (!shared)
		return;
	len = hi - lo + sizeof(long);
	if (len > BPF_USDT_WINDOW_SIZE)
		return;
	if (__bpf_usdt_read_reg(ctx, reg_off, &base))
		return;
	win->buf[BPF_USDT_WINDOW_SIZE / 8] = 0;	/* the spare word, never read for its value */
	if (bpf_probe_read_user(win->buf, len, (void *)(base + lo)))
		return;
	win->lo = lo;
	win->reg_off = reg_off;
	win->len = len;
#endif
}

/* ---- The once-per-hit API: look the spec up with bpf_usdt_spec(ctx), then pass it. ---- */

/* Argument arg_num of spec (from bpf_usdt_spec()) into *res: bpf_usdt_arg() without the
 * lookup. 0 on success; a negative error otherwise, with *res set to 0.
 */
static __always_inline
int bpf_usdt_arg_spec(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec,
		      __u64 arg_num, long *res)
{
	return __bpf_usdt_arg_from_spec(ctx, spec, arg_num, res);
}

/* The number of arguments, or -ESRCH without a spec. */
static __always_inline
int bpf_usdt_spec_arg_cnt(const struct __bpf_usdt_spec *spec)
{
	return spec ? spec->arg_cnt : -ESRCH;
}

/* The user's cookie (bpf_usdt_opts.usdt_cookie), or 0 without a spec. */
static __always_inline
long bpf_usdt_spec_cookie(const struct __bpf_usdt_spec *spec)
{
	return spec ? spec->usdt_cookie : 0;
}

/* Decodes arguments 0..n-1 of spec (n <= 12, best a constant) into res[0..n-1], and each
 * one's error (as bpf_usdt_arg() returns it) into errs[0..n-1] unless errs is NULL. Stack-slot
 * arguments that share a base register are read with one probe read (BPF_USDT_WINDOW_SIZE).
 * Returns the spec's argument count, or -ESRCH without a spec (every res[i] is then 0).
 */
static __always_inline
int bpf_usdt_args(struct pt_regs *ctx, const struct __bpf_usdt_spec *spec, long *res,
		  int *errs, int n)
{
	struct __bpf_usdt_window win;
	int err;

	win.planned = 0;
	win.len = 0;
#define __BPF_USDT_DECODE(i)								\
	if ((i) < n) {									\
		err = __bpf_usdt_arg_decode(ctx, spec, i, &res[i],			\
					    n >= BPF_USDT_WINDOW_MIN_ARGS ? &win : NULL, n);	\
		if (errs)								\
			errs[i] = err;							\
	}
	__BPF_USDT_DECODE(0) __BPF_USDT_DECODE(1) __BPF_USDT_DECODE(2)  __BPF_USDT_DECODE(3)
	__BPF_USDT_DECODE(4) __BPF_USDT_DECODE(5) __BPF_USDT_DECODE(6)  __BPF_USDT_DECODE(7)
	__BPF_USDT_DECODE(8) __BPF_USDT_DECODE(9) __BPF_USDT_DECODE(10) __BPF_USDT_DECODE(11)
#undef __BPF_USDT_DECODE
	return bpf_usdt_spec_arg_cnt(spec);
}

/* The argument's size in bytes (1, 2, 4 or 8), -ENOENT or -ESRCH. */
static __always_inline
int bpf_usdt_spec_arg_size(const struct __bpf_usdt_spec *spec, __u64 arg_num)
{
	const struct __bpf_usdt_arg_spec *arg_spec;
	int err = __bpf_usdt_spec_arg(spec, arg_num, &arg_spec);

	return err ? err : (64 - arg_spec->arg_bitshift) / 8;
}

/* 1 if the argument is a float or double (its value is the raw bits), 0 if not; -ENOENT or
 * -ESRCH.
 */
static __always_inline
int bpf_usdt_spec_arg_is_float(const struct __bpf_usdt_spec *spec, __u64 arg_num)
{
	const struct __bpf_usdt_arg_spec *arg_spec;
	int err = __bpf_usdt_spec_arg(spec, arg_num, &arg_spec);

	return err ? err : !!(arg_spec->arg_flags & BPF_USDT_ARG_FLAG_FLOAT);
}

/* 1 if bpf_usdt_arg() knows how to read the argument (it may still fail to read memory),
 * 0 if it is unavailable (or of an unknown kind); -ENOENT or -ESRCH.
 */
static __always_inline
int bpf_usdt_spec_arg_available(const struct __bpf_usdt_spec *spec, __u64 arg_num)
{
	const struct __bpf_usdt_arg_spec *arg_spec;
	int err = __bpf_usdt_spec_arg(spec, arg_num, &arg_spec);

	if (err)
		return err;
	switch (arg_spec->arg_type) {
	case BPF_USDT_ARG_CONST:
	case BPF_USDT_ARG_REG:
	case BPF_USDT_ARG_REG_DEREF:
	case BPF_USDT_ARG_SIB:
		return 1;
	default:
		return 0;
	}
}

/* ---- libbpf's API: each call looks the spec up again. ---- */

/* Return number of USDT arguments defined for currently traced USDT. */
__weak __hidden
int bpf_usdt_arg_cnt(struct pt_regs *ctx)
{
	return bpf_usdt_spec_arg_cnt(bpf_usdt_spec(ctx));
}

/* Returns the size in bytes of the #*arg_num* (zero-indexed) USDT argument.
 * Returns negative error if argument is not found or arg_num is invalid.
 */
static __always_inline
int bpf_usdt_arg_size(struct pt_regs *ctx, __u64 arg_num)
{
	return bpf_usdt_spec_arg_size(bpf_usdt_spec(ctx), arg_num);
}

/* Fetch USDT argument #*arg_num* (zero-indexed) and put its value into *res.
 * Returns 0 on success; negative error, otherwise.
 * On error *res is guaranteed to be set to zero.
 */
__weak __hidden
int bpf_usdt_arg(struct pt_regs *ctx, __u64 arg_num, long *res)
{
	return __bpf_usdt_arg_from_spec(ctx, bpf_usdt_spec(ctx), arg_num, res);
}

/* Retrieve user-specified cookie value provided during attach as
 * bpf_usdt_opts.usdt_cookie. This serves the same purpose as BPF cookie
 * returned by bpf_get_attach_cookie(). USDT support is itself utilizing BPF cookies
 * internally, so user can't use BPF cookie directly for USDT programs and has to use
 * bpf_usdt_cookie() API instead. 0 on any failure.
 */
__weak __hidden
long bpf_usdt_cookie(struct pt_regs *ctx)
{
	return bpf_usdt_spec_cookie(bpf_usdt_spec(ctx));
}

/* 1 if argument #*arg_num* is a float or double, 0 if not; negative error otherwise. */
static __always_inline
int bpf_usdt_arg_is_float(struct pt_regs *ctx, __u64 arg_num)
{
	return bpf_usdt_spec_arg_is_float(bpf_usdt_spec(ctx), arg_num);
}

/* 1 if argument #*arg_num* can be read, 0 if it is unavailable; negative error otherwise. */
static __always_inline
int bpf_usdt_arg_available(struct pt_regs *ctx, __u64 arg_num)
{
	return bpf_usdt_spec_arg_available(bpf_usdt_spec(ctx), arg_num);
}

/* BPF_USDT: one spec lookup, then bpf_usdt_args() decodes the declared arguments into
 * ___bpf_usdt_vals. A failed fetch reads as 0, as in libbpf. ___bpf_apply() and ___bpf_narg()
 * come from bpf_tracing.h.
 */
#define ___bpf_usdt_args0() ctx
#define ___bpf_usdt_args1(x) ___bpf_usdt_args0(), (void *)___bpf_usdt_vals[0]
#define ___bpf_usdt_args2(x, args...) ___bpf_usdt_args1(args), (void *)___bpf_usdt_vals[1]
#define ___bpf_usdt_args3(x, args...) ___bpf_usdt_args2(args), (void *)___bpf_usdt_vals[2]
#define ___bpf_usdt_args4(x, args...) ___bpf_usdt_args3(args), (void *)___bpf_usdt_vals[3]
#define ___bpf_usdt_args5(x, args...) ___bpf_usdt_args4(args), (void *)___bpf_usdt_vals[4]
#define ___bpf_usdt_args6(x, args...) ___bpf_usdt_args5(args), (void *)___bpf_usdt_vals[5]
#define ___bpf_usdt_args7(x, args...) ___bpf_usdt_args6(args), (void *)___bpf_usdt_vals[6]
#define ___bpf_usdt_args8(x, args...) ___bpf_usdt_args7(args), (void *)___bpf_usdt_vals[7]
#define ___bpf_usdt_args9(x, args...) ___bpf_usdt_args8(args), (void *)___bpf_usdt_vals[8]
#define ___bpf_usdt_args10(x, args...) ___bpf_usdt_args9(args), (void *)___bpf_usdt_vals[9]
#define ___bpf_usdt_args11(x, args...) ___bpf_usdt_args10(args), (void *)___bpf_usdt_vals[10]
#define ___bpf_usdt_args12(x, args...) ___bpf_usdt_args11(args), (void *)___bpf_usdt_vals[11]
#define ___bpf_usdt_args(args...) ___bpf_apply(___bpf_usdt_args, ___bpf_narg(args))(args)

/*
 * BPF_USDT serves the same purpose for USDT handlers as BPF_PROG for
 * tp_btf/fentry/fexit BPF programs and BPF_KPROBE for kprobes.
 * Original struct pt_regs * context is preserved as 'ctx' argument.
 * The spec is looked up once (not at all without arguments), and the arguments are decoded
 * together by bpf_usdt_args().
 */
#define BPF_USDT(name, args...)						    \
name(struct pt_regs *ctx);						    \
static __always_inline typeof(name(0))					    \
____##name(struct pt_regs *ctx, ##args);				    \
typeof(name(0)) name(struct pt_regs *ctx)				    \
{									    \
	long ___bpf_usdt_vals[___bpf_narg(args) + 1] __attribute__((unused)); \
	if (___bpf_narg(args))						    \
		bpf_usdt_args(ctx, bpf_usdt_spec(ctx), ___bpf_usdt_vals, NULL,  \
			      ___bpf_narg(args));				    \
	_Pragma("GCC diagnostic push")					    \
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		    \
	return ____##name(___bpf_usdt_args(args));			    \
	_Pragma("GCC diagnostic pop")					    \
}									    \
static __always_inline typeof(name(0))					    \
____##name(struct pt_regs *ctx, ##args)

#endif /* __USDT_BPF_H__ */
