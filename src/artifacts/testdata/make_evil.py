#!/usr/bin/env python3
"""Writes hostile (and a few well-formed) tar.gz artifacts for local_repo_test.

usage: make_evil.py OUT_DIR SENTINEL_DIR

Each case is OUT_DIR/<case>.tgz; OUT_DIR/manifest.tsv lists "case<TAB>expected", where
expected is a piece of the error message (the offending entry's name) or OK for archives
that must load. SENTINEL_DIR is a folder outside the destination that the test checksums:
several cases aim straight at it.
"""
import io
import os
import sys
import tarfile


def entry(name, kind="file", data=b"", link="", mode=0o644, size=None):
    return (name, kind, data, link, mode, size)


def write(path, entries):
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, link, mode, size in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = 1700000000
            fileobj = None
            if kind == "file":
                info.type = tarfile.REGTYPE
                info.size = len(data) if size is None else size
                fileobj = io.BytesIO(data) if size is None else ZeroReader(size)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = link
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = link
            elif kind in ("chr", "blk"):
                info.type = tarfile.CHRTYPE if kind == "chr" else tarfile.BLKTYPE
                info.devmajor, info.devminor = 1, 3
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info, fileobj)


class ZeroReader:
    """size zero bytes, without holding them in memory."""

    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"\0" * n


def cases(sentinel):
    mib = 1 << 20
    return {
        # name: (expected in the error, entries)
        "dotdot": ("../escape.txt", [entry("../escape.txt", data=b"x")]),
        "dotdot_nested": ("a/../../escape.txt", [entry("a/", "dir"), entry("a/../../escape.txt", data=b"x")]),
        "dotdot_to_sentinel": ("../../sentinel/pwned.txt", [entry("../../sentinel/pwned.txt", data=b"x")]),
        "absolute_into_sentinel": (sentinel + "/pwned.txt", [entry(sentinel + "/pwned.txt", data=b"x")]),
        "absolute_etc": ("/etc/tether-evil", [entry("/etc/tether-evil", data=b"x")]),
        "symlink_abs_then_write": ("link", [entry("link", "symlink", link=sentinel),
                                            entry("link/pwned.txt", data=b"x")]),
        "symlink_rel_escape_then_write": ("up", [entry("up", "symlink", link="../../.."),
                                                 entry("up/pwned.txt", data=b"x")]),
        "symlink_to_etc": ("etc", [entry("etc", "symlink", link="/etc")]),
        "symlink_deep_escape": ("a/b/out", [entry("a/b/", "dir"), entry("a/b/out", "symlink", link="../../../x")]),
        # Each link stays inside by name; followed on disk, q leaves through p/x -> "..".
        "symlink_chain_escape": ("q", [entry("p/", "dir"), entry("p/x", "symlink", link=".."),
                                       entry("q", "symlink", link="p/x/../..")]),
        "symlink_loop": ("a", [entry("a", "symlink", link="b"), entry("b", "symlink", link="a")]),
        "hardlink_absolute": (sentinel + "/file.txt", [entry("h", "hardlink", link=sentinel + "/file.txt")]),
        "hardlink_dotdot": ("../../sentinel/file.txt", [entry("h", "hardlink", link="../../sentinel/file.txt")]),
        "hardlink_missing": ("h", [entry("h", "hardlink", link="not-there")]),
        "hardlink_to_symlink": ("h", [entry("s", "symlink", link="t"), entry("t", data=b"t"),
                                      entry("h", "hardlink", link="s")]),
        "char_device": ("null", [entry("null", "chr")]),
        "block_device": ("disk", [entry("disk", "blk")]),
        "fifo": ("pipe", [entry("pipe", "fifo")]),
        "gzip_bomb": ("zeros.bin", [entry("zeros.bin", size=16 * mib)]),
        "too_big": ("big.bin", [entry("big.bin", size=48 * mib)]),
        "too_many_entries": ("f0500", [entry("f%04d" % i) for i in range(600)]),
        "long_component": ("x" * 20, [entry("x" * 300, data=b"x")]),
        "long_path": ("d/d/d", [entry("d/" * 2100 + "f", data=b"x")]),
        "newline_in_name": ("evil\\x0aname", [entry("evil\nname.txt", data=b"x")]),
        "escape_in_name": ("\\x1b[31mred", [entry("\x1b[31mred.txt", data=b"x")]),
        "del_in_name": ("del\\x7f", [entry("del\x7f.txt", data=b"x")]),
        "duplicate_over_symlink": ("s", [entry("t", data=b"t"), entry("s", "symlink", link="t"),
                                         entry("s", data=b"overwrite")]),
        "duplicate_file": ("f", [entry("f", data=b"1"), entry("f", data=b"2")]),
        "dir_symlink_then_nested_write": ("d/x.txt", [entry("sub/", "dir"), entry("d", "symlink", link="sub"),
                                                      entry("d/x.txt", data=b"x")]),
        "symlink_replacing_dir": ("d", [entry("d/x", data=b"x"), entry("d", "symlink", link="e")]),
        "file_then_write_under_it": ("f/x", [entry("f", data=b"f"), entry("f/x", data=b"x")]),
        # Well-formed archives that must load.
        "good_multi_top": ("OK", [entry("a.txt", data=b"a"), entry("b.txt", data=b"b")]),
        # Inside the archive, but d becomes dest: "../d/f" would then leave it.
        "symlink_through_top_name": ("d/up", [entry("d/", "dir"), entry("d/f", data=b"f"),
                                              entry("d/up", "symlink", link="../d/f")]),
        "good_links_inside": ("OK", [entry("d/", "dir"), entry("d/f", data=b"f"),
                                     entry("d/l", "symlink", link="f"),
                                     entry("d/s/", "dir"), entry("d/s/up", "symlink", link="../f"),
                                     entry("d/h", "hardlink", link="d/f")]),
        "good_dot_slash": ("OK", [entry("./", "dir"), entry("./x/", "dir"), entry("./x/y", data=b"y")]),
    }


def main():
    out, sentinel = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "manifest.tsv"), "w") as manifest:
        for name, (expected, entries) in cases(sentinel).items():
            write(os.path.join(out, name + ".tgz"), entries)
            manifest.write("%s\t%s\n" % (name, expected))


if __name__ == "__main__":
    main()
