#!/usr/bin/env python3
"""Writes the malformed-ELF corpus: Tests/USDTTests/Fixtures/malformed/*.elf and manifest.json.

Each file is a small ELF image (about 1 KB) built from scratch, then damaged in one way: a
truncated header or section, a note with a wrong namesz, descsz or type, an unterminated string,
an absurd count or size, overlapping or missing PT_LOAD segments, a pc outside any executable
segment, a semaphore in an executable one, 32-bit and big-endian variants, files that are not
ELF at all. manifest.json lists every file with the outcome `ProbeList(path:)` must give; cases
that need the file system at test time (a directory, an unreadable file, a FIFO) are listed there
too, with a "setup" instead of a "file". Tests/USDTTests/Malformed/ reads the manifest.

The outcome vocabulary (see Tests/USDTTests/Malformed/README.md):
  {"error": KIND, "errno": "ENOENT"?}   ProbeList(path:) throws a USDTError of that kind
  {"listed": [...], "attachable": N,     it succeeds, lists these probes (provider:name, in note
   "malformedNotes": [{"note": I, "kind": K}],   order), N of them attachable, and reports these
   "probeProblems": [{"site": S, "kind": K}],    malformed notes, per-site problems and
   "unavailableArguments": [{"site": S, "argument": A, "kind": K}],  unreadable arguments
   "symbolTable": {"error": KIND} | {"symtab": N}}  and what ELFFile.symbolTable() gives
"reason" fields say why, for people; tests check kinds, counts and names, never message text.

The output is deterministic: rerun it and `git diff` shows only what changed.
Usage: python3 ci/make-malformed-corpus.py [--check]   (--check: fail if the files are stale)
"""
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "USDTTests", "Fixtures", "malformed")

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOTE, SHT_NOBITS = 1, 2, 3, 7, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
PF_X, PF_W, PF_R = 1, 2, 4
PT_LOAD = 1
EM_386, EM_PPC, EM_S390, EM_X86_64 = 3, 20, 22, 62


class Kind:
    """How one image is laid out: class, byte order, machine, and valid argument strings."""

    def __init__(self, bits, order, machine, args):
        self.bits, self.order, self.machine, self.args = bits, order, machine, args

    @property
    def w(self):
        return self.bits // 8

    def pack(self, fmt, *values):
        return struct.pack(self.order + fmt, *values)

    def word(self, value):
        return self.pack("Q" if self.bits == 64 else "I", value)


# Three probes per image, with argument strings each grammar accepts (from Fixtures/arguments).
X86_64 = Kind(64, "<", EM_X86_64, ["-4@%edi 8@%rsi", "", "-8@-16(%rbp)"])
I386 = Kind(32, "<", EM_386, ["-4@%eax 4@8(%esp)", "", "-4@-20(%ebp)"])
S390X = Kind(64, ">", EM_S390, ["-4@%r2 -8@160(%r15)", "", "4@172(%r15)"])
PPC = Kind(32, ">", EM_PPC, ["-4@3 -4@0(4)", "", "4@8(1)"])

# The address map every image shares (vaddr == file offset, as in a non-PIE link at 0):
#   0x000-0x200  PT_LOAD R+X: headers, .text (0x100, nops), .stapsdt.base (0x180)
#   0x200-0x220  PT_LOAD R+W: .probes (0x200, semaphores), memsz 0x20
TEXT, BASE, PROBES = 0x100, 0x180, 0x200
TEXT_SEGMENT = dict(flags=PF_R | PF_X, offset=0, vaddr=0, filesz=0x200, memsz=0x200)
DATA_SEGMENT = dict(flags=PF_R | PF_W, offset=0x200, vaddr=0x200, filesz=0x10, memsz=0x20)
PROBE_NAMES = ["first", "second", "third"]


def note(kind, desc, owner=b"stapsdt\0", namesz=None, descsz=None, ntype=3):
    """An Elf_Nhdr record; namesz/descsz default to the true lengths but may lie."""
    def pad(b):
        return b + b"\0" * (-len(b) % 4)
    header = kind.pack("III", len(owner) if namesz is None else namesz,
                       len(desc) if descsz is None else descsz, ntype)
    return header + pad(owner) + pad(desc)


def descriptor(kind, pc, base, sema, strings):
    return kind.word(pc) + kind.word(base) + kind.word(sema) + strings


def stapsdt(kind, pc, sema, provider, probe, args, base=BASE, **damage):
    strings = provider.encode() + b"\0" + probe.encode() + b"\0" + args.encode() + b"\0"
    return note(kind, descriptor(kind, pc, base, sema, strings), **damage)


def good_notes(kind, replace=None):
    """The three standard notes; `replace` maps a note index to other bytes."""
    notes = [
        stapsdt(kind, TEXT, PROBES, "test", "first", kind.args[0]),
        stapsdt(kind, TEXT + 4, 0, "test", "second", kind.args[1]),
        stapsdt(kind, TEXT + 8, PROBES + 2, "test", "third", kind.args[2]),
    ]
    for index, data in (replace or {}).items():
        notes[index] = data
    return b"".join(notes)


class Image:
    """An ELF image: header, program headers, sections at fixed or appended offsets, .shstrtab
    and the section header table last. It checks nothing, so cases can describe broken files."""

    def __init__(self, kind, etype=3, segments=None, notes=None, extra_sections=(), machine=None):
        self.kind, self.etype = kind, etype
        self.machine = kind.machine if machine is None else machine
        self.segments = [dict(TEXT_SEGMENT), dict(DATA_SEGMENT)] if segments is None else segments
        nops = b"\x90" * 0x40 if kind.machine in (EM_X86_64, EM_386) else b"\x60\0\0\0" * 0x10
        self.sections = [
            dict(name=".text", type=SHT_PROGBITS, flags=SHF_ALLOC | SHF_EXECINSTR, addr=TEXT, offset=TEXT, data=nops),
            dict(name=".stapsdt.base", type=SHT_PROGBITS, flags=SHF_ALLOC, addr=BASE, offset=BASE, data=b"\0"),
            dict(name=".probes", type=SHT_PROGBITS, flags=SHF_ALLOC | SHF_WRITE, addr=PROBES, offset=PROBES,
                 data=b"\0" * 0x10),
        ]
        if notes is not None:
            self.sections.append(dict(name=".note.stapsdt", type=SHT_NOTE, data=notes))
        self.sections += [dict(s) for s in extra_sections]

    def section(self, name):
        return next(s for s in self.sections if s["name"] == name)

    def build(self):
        k = self.kind
        ehsize, phentsize, shentsize = (64, 56, 64) if k.bits == 64 else (52, 32, 40)
        names = b"\0"
        name_offsets = []
        for s in self.sections + [dict(name=".shstrtab")]:
            name_offsets.append(len(names))
            names += s["name"].encode() + b"\0"
        sections = self.sections + [dict(name=".shstrtab", type=SHT_STRTAB, data=names)]

        body = bytearray(0x220)  # the fixed address map; appended sections follow
        offsets = []
        for s in sections:
            data = s.get("data", b"")
            if "offset" in s:
                offset = s["offset"]
            else:
                offset = len(body) + (-len(body) % 8)
                body += b"\0" * (offset - len(body))
            if s["type"] != SHT_NOBITS:
                body[offset:offset + len(data)] = data
            offsets.append(offset)
        body += b"\0" * (-len(body) % 8)
        shoff = len(body)

        table = b"\0" * shentsize
        for i, s in enumerate(sections):
            size = s.get("size", len(s.get("data", b"")))
            table += k.pack("II", s.get("sh_name", name_offsets[i]), s["type"])
            table += k.word(s.get("flags", 0)) + k.word(s.get("addr", 0)) + k.word(s.get("sh_offset", offsets[i]))
            table += k.word(size) + k.pack("II", s.get("link", 0), s.get("info", 0))
            table += k.word(s.get("align", 1)) + k.word(s.get("entsize", 0))

        ident = b"\x7fELF" + bytes([1 if k.bits == 32 else 2, 1 if k.order == "<" else 2, 1]) + b"\0" * 9
        header = ident + k.pack("HHI", self.etype, self.machine, 1)
        header += k.word(0) + k.word(ehsize if self.segments else 0) + k.word(shoff)
        header += k.pack("IHHHHHH", 0, ehsize, phentsize, len(self.segments), shentsize,
                         len(sections) + 1, len(sections))
        phdrs = b""
        for p in self.segments:
            if k.bits == 64:
                phdrs += k.pack("IIQQQQQQ", p.get("type", PT_LOAD), p["flags"], p["offset"], p["vaddr"],
                                p["vaddr"], p["filesz"], p["memsz"], 0x1000)
            else:
                phdrs += k.pack("IIIIIIII", p.get("type", PT_LOAD), p["offset"], p["vaddr"], p["vaddr"],
                                p["filesz"], p["memsz"], p["flags"], 0x1000)
        body[0:len(header)] = header
        body[ehsize:ehsize + len(phdrs)] = phdrs
        return bytes(body) + table

    # Where header fields are, to damage a built image.
    def field(self, name):
        w = self.kind.w
        return {"e_phoff": (24 + w, w), "e_shoff": (24 + 2 * w, w), "e_phentsize": (30 + 3 * w, 2),
                "e_phnum": (32 + 3 * w, 2), "e_shentsize": (34 + 3 * w, 2), "e_shnum": (36 + 3 * w, 2),
                "e_shstrndx": (38 + 3 * w, 2)}[name]


def patch(image_bytes, kind, offset, size, value):
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[size]
    b = bytearray(image_bytes)
    b[offset:offset + size] = kind.pack(fmt, value)
    return bytes(b)


def set_field(image, data, name, value):
    offset, size = image.field(name)
    return patch(data, image.kind, offset, size, value)


def section_header_offset(image, data, index):
    k = image.kind
    shoff = struct.unpack_from(k.order + ("Q" if k.bits == 64 else "I"), data, image.field("e_shoff")[0])[0]
    return shoff + index * (64 if k.bits == 64 else 40)


# --- Expectations -------------------------------------------------------------------------

ALL = [f"test:{n}" for n in PROBE_NAMES]


def error(kind, reason, errno=None):
    e = {"error": kind, "reason": reason}
    if errno:
        e["errno"] = errno
    return e


def listing(listed, attachable=None, malformed=(), problems=(), unavailable=(), symbols=None, reason=""):
    e = {"listed": listed, "attachable": len(listed) if attachable is None else attachable,
         "malformedNotes": [dict(note=n, kind="malformedNote") for n in malformed],
         "probeProblems": [dict(site=s, kind=k) for s, k in problems],
         "unavailableArguments": [dict(site=s, argument=a, kind=k) for s, a, k in unavailable],
         "reason": reason}
    if symbols is not None:
        e["symbolTable"] = symbols
    return e


# --- The cases ----------------------------------------------------------------------------

def cases():
    """Yields (file name, bytes, what the file is, expected outcome)."""
    k = X86_64
    good = Image(k, notes=good_notes(k))
    good_bytes = good.build()

    # Not ELF, or a broken ELF header.
    yield "empty.bin", b"", "a zero-byte file", error("malformedELF", "too short for e_ident")
    yield "text.txt", b"#!/bin/sh\necho not an ELF file\n", "a shell script", error("malformedELF", "no \\x7fELF magic")
    yield "pe-header.bin", b"MZ\x90\0" + b"\0" * 60, "a DOS/PE stub", error("malformedELF", "no \\x7fELF magic")
    yield "truncated-ident.elf", good_bytes[:10], "the first 10 bytes of a good file", \
        error("malformedELF", "e_ident is 16 bytes")
    yield "truncated-ehdr64.elf", good_bytes[:40], "an ELF64 header cut at 40 of 64 bytes", \
        error("malformedELF", "the ELF header is truncated")
    i386_bytes = Image(I386, notes=good_notes(I386)).build()
    yield "truncated-ehdr32.elf", i386_bytes[:30], "an ELF32 header cut at 30 of 52 bytes", \
        error("malformedELF", "the ELF header is truncated")
    yield "bad-class.elf", patch(good_bytes, k, 4, 1, 3), "EI_CLASS 3", error("malformedELF", "unknown class")
    yield "bad-byte-order.elf", patch(good_bytes, k, 5, 1, 0), "EI_DATA 0", error("malformedELF", "unknown byte order")
    yield "bad-version.elf", patch(good_bytes, k, 6, 1, 0), "EI_VERSION 0", error("malformedELF", "unknown version")

    # Truncated files and tables.
    yield "truncated-half.elf", good_bytes[:len(good_bytes) // 2], "a good file cut in half (no section headers)", \
        error("malformedELF", "the section header table is past the end of the file")
    b = set_field(good, good_bytes, "e_shoff", 0)  # no sections, so the program headers are read first
    b = set_field(good, b, "e_shnum", 0)
    b = set_field(good, b, "e_shstrndx", 0)
    yield "truncated-in-phdrs.elf", b[:64 + 30], "no section headers, and cut inside the program header table", \
        error("malformedELF", "the program header table is past the end of the file")
    yield "truncated-last-shdr.elf", good_bytes[:-10], "the last section header is cut short", \
        error("malformedELF", "the section header table is past the end of the file")

    # Absurd header counts and sizes.
    yield "phnum-past-eof.elf", set_field(good, good_bytes, "e_phnum", 0xfffe), \
        "e_phnum 65534: the table would run past the end of the file", error("malformedELF", "table past EOF")
    b = set_field(good, good_bytes, "e_phnum", 0xffff)  # PN_XNUM: the count is section 0's sh_info
    b = patch(b, k, section_header_offset(good, b, 0) + 44, 4, 0xffffffff)
    yield "phnum-xnum-absurd.elf", b, "PN_XNUM with sh_info 0xffffffff in section 0", \
        error("malformedELF", "e_phnum is absurd")
    b = set_field(good, good_bytes, "e_shnum", 0)  # 0: the count is section 0's sh_size
    b = patch(b, k, section_header_offset(good, b, 0) + 32, 8, 0xffffffffffffffff)
    yield "shnum-extended-absurd.elf", b, "e_shnum 0 with section 0 sh_size 2^64-1", \
        error("malformedELF", "the section count is absurd")
    yield "shentsize-small.elf", set_field(good, good_bytes, "e_shentsize", 8), "e_shentsize 8", \
        error("malformedELF", "smaller than a section header")
    yield "phentsize-small.elf", set_field(good, good_bytes, "e_phentsize", 8), "e_phentsize 8", \
        error("malformedELF", "smaller than a program header")
    yield "shstrndx-out-of-range.elf", set_field(good, good_bytes, "e_shstrndx", 200), "e_shstrndx 200 of 8", \
        error("malformedELF", "e_shstrndx out of range")
    yield "shoff-overflow.elf", set_field(good, good_bytes, "e_shoff", 0xffffffffffffff00), \
        "e_shoff near 2^64: offset + size overflows", error("malformedELF", "section header table outside the file")
    yield "phoff-zero.elf", set_field(good, good_bytes, "e_phoff", 0), "e_phoff 0 with 2 program headers", \
        error("malformedELF", "e_phoff is 0")
    yield "shoff-zero-with-shnum.elf", set_field(good, good_bytes, "e_shoff", 0), \
        "e_shoff 0 but e_shnum and e_shstrndx set", error("malformedELF", "e_shoff is 0")

    # Broken section and segment headers.
    def section_case(name, mutate, what, expected, image_kind=k):
        image = Image(image_kind, notes=good_notes(image_kind))
        mutate(image)
        return name, image.build(), what, expected

    yield section_case("note-section-past-eof.elf", lambda i: i.section(".note.stapsdt").update(size=0x100000),
                       ".note.stapsdt sh_size 1 MiB in a 1 KiB file",
                       error("malformedELF", "section extends past the end of the file"))
    yield section_case("note-section-offset-overflow.elf",
                       lambda i: i.section(".note.stapsdt").update(sh_offset=0xfffffffffffffff0),
                       ".note.stapsdt sh_offset near 2^64", error("malformedELF", "offset + size overflows"))
    yield section_case("note-section-not-sht-note.elf",
                       lambda i: i.section(".note.stapsdt").update(type=SHT_PROGBITS),
                       ".note.stapsdt is SHT_PROGBITS (libbpf fails the same way)",
                       error("malformedELF", "section .note.stapsdt is not SHT_NOTE"))
    yield section_case("section-name-out-of-range.elf", lambda i: i.section(".probes").update(sh_name=0x7fffffff),
                       "a section's sh_name points outside .shstrtab",
                       error("malformedELF", "name offset outside the section name table"))

    image = Image(k, notes=good_notes(k))
    b = image.build()
    # .shstrtab comes last: index len(sections) + 1, after the null section. Make it SHT_NOBITS.
    b = patch(b, k, section_header_offset(image, b, len(image.sections) + 1) + 4, 4, SHT_NOBITS)
    yield "shstrtab-nobits.elf", b, ".shstrtab is SHT_NOBITS", error("malformedELF", "the section name table has no contents")

    segs = [dict(TEXT_SEGMENT, filesz=0x100000, memsz=0x100000), dict(DATA_SEGMENT)]
    yield "segment-past-eof.elf", Image(k, segments=segs, notes=good_notes(k)).build(), \
        "PT_LOAD p_filesz 1 MiB in a 1 KiB file", error("malformedELF", "PT_LOAD extends past the end of the file")
    segs = [dict(TEXT_SEGMENT, filesz=0x200, memsz=0x100), dict(DATA_SEGMENT)]
    yield "segment-filesz-over-memsz.elf", Image(k, segments=segs, notes=good_notes(k)).build(), \
        "PT_LOAD p_filesz > p_memsz", error("malformedELF", "p_filesz > p_memsz")

    # The note section: empty, missing, and one bad note among good ones.
    yield "empty-note-section.elf", Image(k, notes=b"").build(), "an empty .note.stapsdt", \
        listing([], reason="an empty section has no notes and no problems")
    yield "no-note-section.elf", Image(k).build(), "no .note.stapsdt at all", \
        listing([], reason="a file without the section simply has no probes")
    yield "good-elf64-le.elf", good_bytes, "the well-formed x86-64 image the others damage", \
        listing(ALL, reason="baseline")

    bad = stapsdt(k, TEXT + 4, 0, "test", "second", "", ntype=1)
    yield "note-bad-type.elf", Image(k, notes=good_notes(k, {1: bad})).build(), "note 1 has n_type 1", \
        listing(["test:first", "test:third"], malformed=[1], reason="n_type is 1, expected 3")
    bad = stapsdt(k, TEXT + 4, 0, "test", "second", "", owner=b"stapsdt\0\0", namesz=9)
    yield "note-bad-namesz.elf", Image(k, notes=good_notes(k, {1: bad})).build(), "note 1 has namesz 9", \
        listing(["test:first", "test:third"], malformed=[1], reason="namesz 9, expected 8")
    bad = stapsdt(k, TEXT + 4, 0, "test", "second", "", owner=b"stapsdX\0")
    yield "note-bad-owner.elf", Image(k, notes=good_notes(k, {1: bad})).build(), "note 1 is owned by \"stapsdX\"", \
        listing(["test:first", "test:third"], malformed=[1], reason="the owner is not stapsdt")
    bad = note(k, descriptor(k, TEXT + 4, BASE, 0, b"")[:20])
    yield "note-short-descsz.elf", Image(k, notes=good_notes(k, {1: bad})).build(), "note 1 has descsz 20 (< 27)", \
        listing(["test:first", "test:third"], malformed=[1], reason="descsz below 3 words + 3 NULs")
    bad = note(k, descriptor(k, TEXT + 4, BASE, 0, b"testtesttesttest"))
    yield "note-unterminated-provider.elf", Image(k, notes=good_notes(k, {1: bad})).build(), \
        "note 1's provider has no NUL inside descsz", \
        listing(["test:first", "test:third"], malformed=[1], reason="the provider is not NUL-terminated")
    bad = note(k, descriptor(k, TEXT + 4, BASE, 0, b"test\0second"))
    yield "note-unterminated-name.elf", Image(k, notes=good_notes(k, {1: bad})).build(), \
        "note 1's probe name has no NUL inside descsz", \
        listing(["test:first", "test:third"], malformed=[1], reason="the name is not NUL-terminated")
    bad = note(k, descriptor(k, TEXT + 4, BASE, 0, b"test\0second\0-4@%edi"))
    yield "note-unterminated-args.elf", Image(k, notes=good_notes(k, {1: bad})).build(), \
        "note 1's argument string has no NUL inside descsz (the padding NULs do not count)", \
        listing(["test:first", "test:third"], malformed=[1], reason="the argument string is not NUL-terminated")
    bad = note(k, descriptor(k, TEXT + 4, BASE, 0, b"test\0\0\0"))
    yield "note-empty-name.elf", Image(k, notes=good_notes(k, {1: bad})).build(), "note 1 has an empty probe name", \
        listing(["test:first", "test:third"], malformed=[1], reason="the probe name is empty")
    yield "note-all-bad.elf", Image(k, notes=b"".join(
        stapsdt(k, TEXT + 4 * i, 0, "test", n, "", ntype=0) for i, n in enumerate(PROBE_NAMES))).build(), \
        "every note has n_type 0", listing([], malformed=[0, 1, 2], reason="three bad notes, no good ones")
    yield "note-trailing-bytes.elf", Image(k, notes=good_notes(k) + b"\x08\0\0\0\0\0\0\0").build(), \
        "8 bytes after the last note, too few for a note header", \
        listing(ALL, malformed=[3], reason="only 8 bytes left for a 12-byte header")
    bad = stapsdt(k, TEXT + 4, 0, "test", "second", "", descsz=0xffffffff)
    yield "note-descsz-absurd.elf", Image(k, notes=good_notes(k, {1: bad})).build(), \
        "note 1 has descsz 0xffffffff: the walk cannot find note 2, so it stops", \
        listing(["test:first"], malformed=[1], reason="a broken note header ends the walk")
    bad = stapsdt(k, TEXT, 0, "test", "first", "", namesz=0xfffffff0)
    yield "note-namesz-absurd.elf", Image(k, notes=good_notes(k, {0: bad})).build(), \
        "note 0 has namesz 0xfffffff0", listing([], malformed=[0], reason="a broken first header hides the rest")
    many = b"".join(stapsdt(k, TEXT + (i % 0x40), 0, "test", "many", "") for i in range(64))
    yield "note-many-sites.elf", Image(k, notes=many).build(), "64 notes of one probe name", \
        listing(["test:many"] * 64, reason="one note per site; every site is listed")

    # Addresses: pc outside any executable segment, semaphores in the wrong place.
    def addr_case(name, replace, what, listed_problems, reason, segments=None, image_kind=k):
        image = Image(image_kind, segments=segments, notes=good_notes(image_kind, replace))
        problems = [(s, "addressNotMapped") for s in listed_problems]
        return name, image.build(), what, listing(ALL, attachable=3 - len({s for s in listed_problems}),
                                                  problems=problems, reason=reason)

    yield addr_case("pc-unmapped.elf", {1: stapsdt(k, 0x900000, 0, "test", "second", "")},
                    "note 1's pc 0x900000 is in no PT_LOAD", [1], "no segment contains the pc")
    yield addr_case("pc-in-data-segment.elf", {1: stapsdt(k, PROBES + 4, 0, "test", "second", "")},
                    "note 1's pc is in the R+W segment", [1], "the segment of the pc is not executable")
    yield addr_case("semaphore-in-text.elf", {0: stapsdt(k, TEXT, TEXT + 0x10, "test", "first", k.args[0])},
                    "note 0's semaphore is in the R+X segment", [0], "a semaphore must not be executable")
    yield addr_case("semaphore-unmapped.elf", {2: stapsdt(k, TEXT + 8, 0x50000, "test", "third", k.args[2])},
                    "note 2's semaphore 0x50000 is in no PT_LOAD", [2], "no segment contains the semaphore")
    yield addr_case("pc-and-semaphore-unmapped.elf",
                    {0: stapsdt(k, 0x900000, 0x50000, "test", "first", k.args[0])},
                    "note 0's pc and semaphore are both unmapped: two problems on one site", [0, 0],
                    "each address is reported")
    yield addr_case("stale-base.elf", {1: stapsdt(k, TEXT + 4, 0, "test", "second", "", base=0x100080)},
                    "note 1's base differs from .stapsdt.base: the prelink delta wraps the pc far away", [1],
                    "the adjusted pc is unmapped")
    image = Image(k, segments=[], notes=good_notes(k))
    yield "no-pt-load.elf", image.build(), "an ET_DYN file without program headers", \
        listing(ALL, attachable=0, problems=[(0, "addressNotMapped"), (0, "addressNotMapped"),
                                             (1, "addressNotMapped"), (2, "addressNotMapped"),
                                             (2, "addressNotMapped")],
                reason="no PT_LOAD: neither pcs nor semaphores map")
    image = Image(k, etype=1, segments=[], notes=good_notes(k))
    yield "relocatable.elf", image.build(), "an ET_REL object (notes, no PT_LOAD)", \
        listing(ALL, attachable=0, problems=[(0, "addressNotMapped"), (0, "addressNotMapped"),
                                             (1, "addressNotMapped"), (2, "addressNotMapped"),
                                             (2, "addressNotMapped")],
                reason="an object file must be linked before it can be probed")
    # The R+X segment also covers the R+W one: the first segment by address wins (as in libbpf),
    # so the semaphores land in an executable segment.
    segs = [dict(TEXT_SEGMENT, filesz=0x220, memsz=0x220), dict(DATA_SEGMENT)]
    yield addr_case("overlapping-pt-load.elf", {}, "the R+X PT_LOAD overlaps the R+W one", [0, 2],
                    "the semaphores resolve to the executable segment", segments=segs)
    # A R+W segment at vaddr 0 spanning everything, listed after the R+X one: sorted by address
    # it comes first, so every pc lands in a non-executable segment.
    segs = [dict(TEXT_SEGMENT, vaddr=0x100, offset=0x100, filesz=0x100, memsz=0x100),
            dict(DATA_SEGMENT, vaddr=0, offset=0, filesz=0x220, memsz=0x220)]
    yield addr_case("overlapping-pt-load-data-first.elf", {}, "a R+W PT_LOAD at 0 covers the R+X one", [0, 1, 2],
                    "the pcs resolve to the non-executable segment", segments=segs)
    # p_offset + (pc - p_vaddr) overflows 64 bits.
    # The segment covers every address, so these notes have no semaphores.
    segs = [dict(TEXT_SEGMENT, offset=0x100, vaddr=0, filesz=0x100, memsz=0xffffffffffffffff), dict(DATA_SEGMENT)]
    image = Image(k, segments=segs, notes=good_notes(k, {
        0: stapsdt(k, TEXT, 0, "test", "first", k.args[0]),
        1: stapsdt(k, 0xffffffffffffff80, 0, "test", "second", ""),
        2: stapsdt(k, TEXT + 8, 0, "test", "third", k.args[2])}))
    yield "pc-file-offset-overflow.elf", image.build(), \
        "a PT_LOAD of p_memsz 2^64-1 at p_offset 0x100; note 1's pc maps past 2^64", \
        listing(ALL, attachable=2, problems=[(1, "malformedELF")], reason="the file offset overflows")

    # Arguments: one bad argument does not hide the probe; the argument limit does.
    yield "argument-unknown-register.elf", Image(k, notes=good_notes(k, {0: stapsdt(
        k, TEXT, PROBES, "test", "first", "-4@%edi 8@%xyz")})).build(), "note 0's second argument is %xyz", \
        listing(ALL, unavailable=[(0, 1, "unknownRegister")], reason="the probe attaches without that argument")
    yield "argument-too-many.elf", Image(k, notes=good_notes(k, {2: stapsdt(
        k, TEXT + 8, PROBES + 2, "test", "third", " ".join(["-4@%edi"] * 13))})).build(), "note 2 has 13 arguments", \
        listing(ALL, attachable=2, problems=[(2, "unsupportedOperand")], reason="more than 12 arguments")
    yield "unknown-machine.elf", Image(k, machine=0x1234, notes=good_notes(k)).build(), "e_machine 0x1234", \
        listing(ALL, attachable=1, problems=[(0, "unsupportedArchitecture"), (2, "unsupportedArchitecture")],
                reason="no grammar for the arguments; the probe without arguments still attaches")

    # 32-bit and big-endian files.
    for name, kind, what in [("good-elf32-le.elf", I386, "i386"), ("good-elf64-be.elf", S390X, "s390x"),
                             ("good-elf32-be.elf", PPC, "32-bit PowerPC")]:
        yield name, Image(kind, notes=good_notes(kind)).build(), f"a well-formed {what} image", \
            listing(ALL, reason="baseline for its class and byte order")
    bad = note(PPC, descriptor(PPC, TEXT + 4, BASE, 0, b"t\0")[:14])
    yield "elf32-be-short-descsz.elf", Image(PPC, notes=good_notes(PPC, {1: bad})).build(), \
        "32-bit big-endian; note 1 has descsz 14 (< 15)", \
        listing(["test:first", "test:third"], malformed=[1], reason="descsz below 3 words + 3 NULs")
    little = Kind(64, "<", EM_S390, S390X.args)
    bad = note(S390X, descriptor(S390X, TEXT + 4, BASE, 0, b"test\0second\0\0"))
    bad = bad[:8] + little.pack("I", 3) + bad[12:]
    yield "elf64-be-type-little-endian.elf", Image(S390X, notes=good_notes(S390X, {1: bad})).build(), \
        "big-endian s390x; note 1's n_type written little-endian (0x03000000)", \
        listing(["test:first", "test:third"], malformed=[1], reason="byte order comes from the file, not the host")
    wide = Kind(64, "<", EM_386, I386.args)  # 8-byte words in a 32-bit file
    bad = note(wide, descriptor(wide, TEXT + 4, BASE, 0, b"test\0second\0\0"))
    yield "elf32-note-with-64bit-words.elf", Image(I386, notes=good_notes(I386, {1: bad})).build(), \
        "ELF32 with one note written with 8-byte words: its strings start at a zero byte", \
        listing(["test:first", "test:third"], malformed=[1], reason="the probe name reads as empty")
    yield addr_case("elf32-be-pc-unmapped.elf", {0: stapsdt(PPC, 0xfffffff0, PROBES, "test", "first", PPC.args[0])},
                    "32-bit big-endian; note 0's pc 0xfffffff0 is unmapped", [0], "no segment contains the pc",
                    image_kind=PPC)

    # Symbol tables: ProbeList does not read them, ELFFile.symbolTable() does.
    strtab = b"\0gvar\0counter\0"
    # The null symbol, a local `counter` (STB_LOCAL, STT_OBJECT) and a global `gvar`; sh_info 2 = first global.
    syms = b"\0" * 24 + k.pack("IBBHQQ", 6, 0x01, 0, 3, PROBES + 4, 4) + k.pack("IBBHQQ", 1, 0x11, 0, 3, PROBES, 4)
    def symtab_case(name, what, symtab_changes, expected):
        sections = [dict(name=".strtab", type=SHT_STRTAB, data=strtab),
                    dict(dict(name=".symtab", type=SHT_SYMTAB, data=syms, entsize=24, link=5, info=2),
                         **symtab_changes)]
        image = Image(k, notes=good_notes(k), extra_sections=sections)
        return name, image.build(), what, listing(ALL, symbols=expected, reason="the notes are fine")
    # Section indices: 1 .text, 2 .stapsdt.base, 3 .probes, 4 .note.stapsdt, 5 .strtab, 6 .symtab.
    yield symtab_case("symtab-good.elf", "a .symtab with two symbols", {}, {"symtab": 3})
    yield symtab_case("symtab-entsize-zero.elf", ".symtab sh_entsize 0", {"entsize": 0}, {"error": "malformedELF"})
    yield symtab_case("symtab-size-not-multiple.elf", ".symtab sh_size 70 with sh_entsize 24",
                      {"size": 70}, {"error": "malformedELF"})
    yield symtab_case("symtab-link-not-strtab.elf", ".symtab sh_link names .probes", {"link": 3},
                      {"error": "malformedELF"})
    yield symtab_case("symtab-link-out-of-range.elf", ".symtab sh_link 99", {"link": 99}, {"error": "malformedELF"})
    # Found by `make fuzz` (elf): an empty SHT_SYMTAB whose sh_entsize is 2^64-1 passes the size
    # checks (0 % n == 0); it used to trap converting sh_entsize to Int (ae193e9). The fuzzer's
    # input itself is in fuzz-crashes/, replayed in a child process by FuzzRegressionTests.
    yield symtab_case("symtab-empty-huge-entsize.elf", "an empty .symtab with sh_entsize 2^64-1",
                      {"data": b"", "entsize": 0xffffffffffffffff}, {"error": "malformedELF"})
    bad_syms = syms[:24] + k.pack("IBBHQQ", 0x1000, 0x01, 0, 3, PROBES + 4, 4) + syms[48:]
    yield symtab_case("symtab-name-out-of-range.elf", "a symbol's st_name is past .strtab",
                      {"data": bad_syms}, {"error": "malformedELF"})


# Cases that need the file system at test time; the test creates them in a temporary directory.
SETUP_CASES = [
    dict(name="directory", setup="directory", what="a directory",
         expect=error("systemCall", "open(2) works on a directory, fstat says it is one", "EISDIR")),
    dict(name="missing", setup="missing", what="a path that does not exist",
         expect=error("systemCall", "open(2) fails", "ENOENT")),
    dict(name="not-a-directory", setup="not-a-directory", what="a path through a regular file (file/child)",
         expect=error("systemCall", "open(2) fails", "ENOTDIR")),
    dict(name="unreadable", setup="unreadable", what="a good ELF file with mode 000",
         expect=error("systemCall", "open(2) fails; root reads it anyway, so the test cancels as root",
                      "EACCES")),
    dict(name="character-device", setup="character-device", what="/dev/null",
         expect=error("malformedELF", "not a regular file")),
    dict(name="fifo-with-writer", setup="fifo-with-writer", what="a FIFO that a writer holds open",
         expect=error("malformedELF", "not a regular file")),
    dict(name="fifo-without-writer", setup="fifo-without-writer", what="a FIFO nobody writes to",
         expect=error("malformedELF", "not a regular file; opened with O_NONBLOCK, so open(2) does not wait for a writer")),
]


def render():
    files = {}
    manifest_cases = []
    for name, data, what, expect in cases():
        assert name not in files, f"duplicate case {name}"
        files[name] = data
        manifest_cases.append(dict(name=name, file=name, what=what, expect=expect))
    manifest = {
        "about": "Malformed inputs for the SwiftUSDT ELF reader and what ProbeList(path:) must do with "
                 "each. Generated by ci/make-malformed-corpus.py; do not edit by hand.",
        "outcomes": "error: ProbeList(path:) throws this USDTError.Kind (errno: its symbolic errno). "
                    "listed: it succeeds with these probes (provider:name, note order); attachable: how many "
                    "of them can attach; malformedNotes: the bad notes (note index in the section); "
                    "probeProblems: problems of listed sites (site = index in listed); unavailableArguments: "
                    "arguments that cannot be read; symbolTable: what ELFFile.symbolTable() gives. "
                    "Every error's description names the file.",
        "cases": manifest_cases + SETUP_CASES,
    }
    text = json.dumps(manifest, indent=1) + "\n"
    return files, text


def main():
    check = "--check" in sys.argv[1:]
    files, manifest = render()
    wanted = dict(files, **{"manifest.json": manifest.encode()})
    stale = []
    os.makedirs(OUT, exist_ok=True)
    # Subdirectories (fuzz-crashes/) and README.md are not the generator's; leave them alone.
    generated = {n for n in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, n))} - {"README.md"}
    for name in sorted(generated - set(wanted)):
        stale.append(f"remove {name}")
        if not check:
            os.remove(os.path.join(OUT, name))
    for name, data in wanted.items():
        path = os.path.join(OUT, name)
        old = open(path, "rb").read() if os.path.exists(path) else None
        if old != data:
            stale.append(f"write {name}")
            if not check:
                with open(path, "wb") as f:
                    f.write(data)
    total = sum(len(d) for d in files.values())
    if check:
        if stale:
            sys.exit("malformed corpus is stale; run python3 ci/make-malformed-corpus.py:\n  " + "\n  ".join(stale))
        print(f"malformed corpus up to date: {len(files)} files")
    else:
        print(f"{OUT}: {len(files)} files ({total} bytes), {len(SETUP_CASES)} setup cases, "
              f"{len(stale)} changed")


if __name__ == "__main__":
    main()
