#!/usr/bin/env python3
"""Drives the appliance's console on tty1 through the QEMU monitor, as an
operator at its keyboard would, and reads the screen back as text.

    tty.py keys MONITOR.sock ITEM...     ITEM: @name (a QEMU key name:
                                         @ret, @down, @spc, @esc) or text,
                                         typed key by key
    tty.py read MONITOR.sock FONTDIR OUT.txt [OUT.png]

"read" takes a screendump and recognises every character cell by comparing
it with the glyphs of the console font: the Terminus size in FONTDIR (the
image's /usr/share/consolefonts) whose cells make 80x25 fill the screen, as
`strongroom console --fit-font` chooses it;
the cell's most common colour is its background, every other pixel is
lit, and the glyph whose bitmap differs from the lit pixels in the fewest
places wins. Only printable ASCII is recognised (other glyphs, such as box
drawing, come out as the nearest ASCII or a space); that is enough for the
wizard's words and the recovery key.
"""
import collections
import gzip
import os
import re
import socket
import struct
import sys
import tempfile
import time

import importlib.util

_spec = importlib.util.spec_from_file_location("ppm", os.path.join(os.path.dirname(os.path.abspath(__file__)), "ppm.py"))
ppm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ppm)

KEYNAMES = {" ": "spc", "-": "minus", "/": "slash", ".": "dot", ":": "shift-semicolon", "_": "shift-minus",
            "@": "shift-2", ",": "comma", "=": "equal"}


class Monitor:
    """The QEMU human monitor on a unix socket."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(30)
        self._until_prompt()

    def _until_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("QEMU monitor closed")
            buf += chunk
        return buf

    def command(self, cmd):
        self.s.sendall((cmd + "\n").encode())
        return self._until_prompt()


def key_name(ch):
    if ch.isdigit() or ("a" <= ch <= "z"):
        return ch
    if "A" <= ch <= "Z":
        return "shift-" + ch.lower()
    if ch in KEYNAMES:
        return KEYNAMES[ch]
    raise SystemExit("no QEMU key for %r" % ch)


def send_keys(mon, items):
    for item in items:
        names = [item[1:]] if item.startswith("@") else [key_name(c) for c in item]
        for n in names:
            mon.command("sendkey " + n)
            # The console reads a key at a time; a short pause keeps
            # bubbletea from seeing two keys as one escape sequence.
            time.sleep(0.15)


def load_psf(path):
    """Returns (width, height, {char: bitmap as int}) of a PSF1 or PSF2 font."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x72\xb5\x4a\x86":
        _, _, hdr, flags, count, size, height, width = struct.unpack("<8I", data[:32])
        glyphs_at, has_table = hdr, flags & 1
    elif data[:2] == b"\x36\x04":
        mode, size = data[2], data[3]
        count, width, height, glyphs_at, has_table = (512 if mode & 1 else 256), 8, size, 4, mode & 2
    else:
        raise SystemExit("%s: not a PSF font" % path)
    row = (width + 7) // 8
    bitmaps = []
    for g in range(count):
        raw = data[glyphs_at + g * size:glyphs_at + (g + 1) * size]
        bits = 0
        for y in range(height):
            line = int.from_bytes(raw[y * row:(y + 1) * row], "big")
            for x in range(width):
                if line >> (row * 8 - 1 - x) & 1:
                    bits |= 1 << (y * width + x)
        bitmaps.append(bits)
    chars = {}
    if has_table:
        pos = glyphs_at + count * size
        psf2 = data[:4] == b"\x72\xb5\x4a\x86"
        for g in range(count):
            if psf2:
                end = data.index(b"\xff", pos)
                entry = data[pos:end].split(b"\xfe")[0]
                pos = end + 1
                for ch in entry.decode("utf-8", "replace"):
                    chars.setdefault(ch, bitmaps[g])
            else:
                while True:
                    (u,) = struct.unpack("<H", data[pos:pos + 2])
                    pos += 2
                    if u == 0xFFFF:
                        break
                    if u != 0xFFFE:
                        chars.setdefault(chr(u), bitmaps[g])
    else:
        for g in range(min(count, 256)):
            chars[chr(g)] = bitmaps[g]
    return width, height, {c: b for c, b in chars.items() if 32 <= ord(c) < 127}


def fitting_font(fontdir, w, h):
    """The largest regular Terminus font in fontdir that fits 80x25 cells."""
    best = None
    for name in sorted(os.listdir(fontdir)):
        m = re.fullmatch(r"Uni2-Terminus(\d+)(?:x(\d+))?\.psf(?:\.gz)?", name)
        if not m:
            continue
        fh, fw = int(m.group(1)), int(m.group(2) or 8)
        if 80 * fw <= w and 25 * fh <= h and (best is None or fw * fh > best[0]):
            best = (fw * fh, name)
    if best is None:
        raise SystemExit("no Terminus font in %s fits 80x25 on %dx%d" % (fontdir, w, h))
    return load_psf(os.path.join(fontdir, best[1]))


def screen_text(w, h, rgb, fw, fh, glyphs):
    lines = []
    for row in range(h // fh):
        line = []
        for col in range(w // fw):
            cell = []
            for y in range(fh):
                start = ((row * fh + y) * w + col * fw) * 3
                cell.extend(rgb[start + 3 * x:start + 3 * x + 3] for x in range(fw))
            bg = collections.Counter(cell).most_common(1)[0][0]
            lit = 0
            for i, px in enumerate(cell):
                if px != bg:
                    lit |= 1 << i
            if lit == 0:
                line.append(" ")
                continue
            line.append(min(glyphs.items(), key=lambda kv: (kv[1] ^ lit).bit_count())[0])
        lines.append("".join(line).rstrip())
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    mon = Monitor(sys.argv[2])
    if sys.argv[1] == "keys":
        send_keys(mon, sys.argv[3:])
        return
    if sys.argv[1] != "read" or len(sys.argv) < 5:
        raise SystemExit(__doc__)
    fd, dump = tempfile.mkstemp(suffix=".ppm")
    os.close(fd)
    try:
        mon.command("screendump " + dump)
        w, h, rgb = ppm.read_ppm(dump)
    finally:
        os.unlink(dump)
    fw, fh, glyphs = fitting_font(sys.argv[3], w, h)
    with open(sys.argv[4], "w") as f:
        f.write(screen_text(w, h, rgb, fw, fh, glyphs))
    if len(sys.argv) > 5:
        ppm.write_png(sys.argv[5], w, h, rgb)


if __name__ == "__main__":
    main()
