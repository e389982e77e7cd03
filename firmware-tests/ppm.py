#!/usr/bin/env python3
"""Reads a QEMU screendump (binary PPM, P6), says whether it is blank and
writes it as PNG for people to look at.

    ppm.py SCREEN.ppm [OUT.png]

Prints: size=WxH colours=N lit=P% blank=yes|no extent=X%xY%. "Lit" pixels
differ from the most common colour (the background); a screen with less than
0.2 % lit pixels is blank. The extent is how far right and down lit pixels
reach, in per cent of the width and height: a console drawn in the top-left
quarter only reaches about 50%x50%.
"""
import collections
import struct
import sys
import zlib


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise SystemExit("not an 8-bit P6 PPM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos:pos + w * h * 3]


def write_png(path, w, h, rgb):
    raw = b"".join(b"\x00" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def main():
    w, h, rgb = read_ppm(sys.argv[1])
    pixels = collections.Counter(rgb[i:i + 3] for i in range(0, len(rgb), 3))
    background, count = pixels.most_common(1)[0]
    lit = 100.0 * (w * h - count) / (w * h)
    right = bottom = 0
    blank_row = background * w
    for y in range(h):
        row = rgb[y * w * 3:(y + 1) * w * 3]
        if row == blank_row:
            continue
        bottom = y + 1
        for x in range(w - 1, right - 1, -1):
            if row[x * 3:x * 3 + 3] != background:
                right = x + 1
                break
    print("size=%dx%d colours=%d lit=%.2f%% blank=%s extent=%d%%x%d%%"
          % (w, h, len(pixels), lit, "yes" if lit < 0.2 else "no",
             100 * right // w, 100 * bottom // h))
    if len(sys.argv) > 2:
        write_png(sys.argv[2], w, h, rgb)


if __name__ == "__main__":
    main()
