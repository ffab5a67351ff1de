#!/bin/sh
# Regenerates the ELF fixtures of Tests/USDTTests/ELF from src/*.c with the compilers of this
# machine (gcc 12 with ld.bfd, and the clang/ld.lld shipped in /opt/swift), and records what
# binutils' readelf says about each one in NAME.readelf. The tests compare the Swift reader with
# those recordings, so a fixture and its .readelf must always be regenerated together.
#
# Fixtures (each well under 40 KB):
#   x86_64-gcc-pie      gcc -fPIE -pie, ld.bfd            ET_DYN executable, 64-bit little-endian
#   x86_64-gcc-exec     gcc -no-pie, ld.bfd               ET_EXEC
#   x86_64-lld.so       clang, lld -z noseparate-code     shared object, p_vaddr != p_offset
#   x86_64-rel            gcc -c                            relocatable: notes but no PT_LOAD
#   aarch64-lld.so      clang --target=aarch64, ld.lld    64-bit little-endian, foreign machine
#   s390x-lld.so        clang --target=s390x, ld.lld      64-bit big-endian
#   arm-lld.so          clang --target=arm, ld.lld        32-bit little-endian
#   ppc-lld.so          clang --target=powerpc, ld.lld    32-bit big-endian
#   x86_64-gcc-symbols  gcc -fPIE -pie, ld.bfd            .symtab with two `static int counter`
#                                                         and `gvar`; NAME.nm holds nm's listing
#
# The cross builds need no cross libc: sdt.h only needs itself and sdt-config.h (from
# systemtap-sdt-dev, installed under the x86-64 multiarch directory), and the C sources include
# nothing else, so they compile with -ffreestanding -nostdinc.
#
# After regenerating, update the few hard-coded spot values in ELFFixtureTests.swift (the test
# prints what it found when they differ).
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-/opt/swift/usr/bin/clang}
LLD=${LLD:-/opt/swift/usr/bin/ld.lld}
SDT_INCLUDE=/usr/include/x86_64-linux-gnu   # holds sys/sdt.h and sys/sdt-config.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

record() {
  # -h header, -l program headers, -S sections, -n notes; -W keeps every line whole.
  readelf -hlSnW "$1" > "$1.readelf"
}

gcc -O2 -g0 -fPIE -pie -fuse-ld=bfd src/main.c src/sema.c src/plain.c -o x86_64-gcc-pie
gcc -O2 -g0 -fno-pie -no-pie -fuse-ld=bfd src/main.c src/sema.c src/plain.c -o x86_64-gcc-exec
"$CLANG" -O2 -g0 -fPIC -shared -fuse-ld=lld -Wl,-z,noseparate-code src/sema.c src/plain.c -o x86_64-lld.so
gcc -O2 -g0 -c src/plain.c -o x86_64-rel

for pair in aarch64:aarch64-linux-gnu s390x:s390x-linux-gnu arm:arm-linux-gnueabihf ppc:powerpc-linux-gnu; do
  name=${pair%%:*}
  target=${pair#*:}
  for unit in sema plain; do
    "$CLANG" --target="$target" -O2 -g0 -fPIC -ffreestanding -nostdinc -I"$SDT_INCLUDE" \
      -c "src/$unit.c" -o "$tmp/$name-$unit.o"
  done
  "$LLD" -shared "$tmp/$name-sema.o" "$tmp/$name-plain.o" -o "$name-lld.so"
done

for f in x86_64-gcc-pie x86_64-gcc-exec x86_64-lld.so x86_64-rel aarch64-lld.so s390x-lld.so arm-lld.so ppc-lld.so; do
  record "$f"
done

# Symbols for RIP-relative operands (SymbolTests.swift): two units, each with its own
# `static int counter`, and the global `gvar`. nm's listing is what the test compares with.
gcc -O2 -g0 -fPIE -pie -fuse-ld=bfd src/symbols-a.c src/symbols-b.c -o x86_64-gcc-symbols
nm x86_64-gcc-symbols > x86_64-gcc-symbols.nm
ls -l
