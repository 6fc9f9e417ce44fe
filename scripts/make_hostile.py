#!/usr/bin/env python3
"""Writes the hostile-input corpus to Tests/Corpus/hostile/ (deterministic; numpy only).

Each file is one way a NIfTI input can be wrong; Tests/MaskEvalCLITests/HostileInputTests
runs every one as reference and as prediction for `compare`, and through `info`, and expects
the documented exit code, at most two lines on stderr naming the file, and no crash.
expected.json (name -> exit code) is the contract the tests read. Files named fuzz-* are
inputs the fuzzer found (scripts/fuzz); they are kept, not generated.
"""
import gzip
import io
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Corpus", "hostile")


def header(dims=(10, 10, 10), datatype=2, bitpix=8, pixdim=(1.0, 1.0, 1.0, 1.0), vox_offset=352.0, qform=1,
           sform=0, srow=None, slope=1.0, inter=0.0, ndim=None):
    h = bytearray(352)
    struct.pack_into("<i", h, 0, 348)
    dim = [ndim if ndim is not None else len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into("<8h", h, 40, *dim)
    struct.pack_into("<h", h, 70, datatype)
    struct.pack_into("<h", h, 72, bitpix)
    struct.pack_into("<8f", h, 76, *(list(pixdim) + [0.0] * (8 - len(pixdim))))
    struct.pack_into("<f", h, 108, vox_offset)
    struct.pack_into("<2f", h, 112, slope, inter)
    h[123] = 2
    struct.pack_into("<h", h, 252, qform)
    struct.pack_into("<h", h, 254, sform)
    if srow is not None:
        struct.pack_into("<12f", h, 280, *srow)
    h[344:348] = b"n+1\0"
    return bytes(h)


def labels(shape=(10, 10, 10), dtype=np.uint8, offset=0):
    a = np.zeros(shape, dtype)
    a[2:7, 3:8, 2:6] = 1
    a[6:9, 1:4, 5:9] = 2
    return np.roll(a, offset, axis=0)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def gz(data):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
        f.write(data)
    return buffer.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(13)
    body = labels().tobytes(order="F")
    expected = {}

    def bad(name, data, code=65):
        write(name, data)
        expected[name] = code

    # Good inputs the tests pair with the hostile ones.
    write("good.nii", header() + body)
    write("good_2.nii.gz", gz(header() + labels(offset=1).tobytes(order="F")))
    bad("empty.nii", b"")
    bad("header_only.nii", header())
    bad("huge.nii", header(dims=(32000, 32000, 10000)) + body)
    bad("negative_dim.nii", header(dims=(10, -5, 10)) + body)
    bad("zero_dim.nii", header(dims=(10, 0, 10)) + body)
    bad("nan_spacing.nii", header(pixdim=(1.0, float("nan"), 1.0, 1.0)) + body)
    bad("zero_spacing.nii", header(pixdim=(1.0, 1.0, 0.0, 1.0)) + body)
    bad("negative_spacing.nii", header(pixdim=(1.0, 1.0, 1.0, -2.0)) + body)
    bad("absurd_spacing.nii", header(qform=0, sform=1, srow=(1e-22, 0, 0, 0, 0, 1e25, 0, 0, 0, 0, 1, 0)) + body)
    bad("unknown_datatype.nii", header(datatype=999, bitpix=8) + body)
    bad("rgb.nii", header(datatype=128, bitpix=24) + body * 3)
    bad("complex.nii", header(datatype=32, bitpix=64) + body * 8)
    bad("vox_offset_past_end.nii", header(vox_offset=1e6) + body)
    bad("truncated.nii", (header() + body)[: 352 + len(body) // 2])
    good_gz = bytearray(gz(header() + body))
    good_gz[-8] ^= 0xFF  # the CRC32 of the gzip trailer
    bad("corrupt_crc.nii.gz", bytes(good_gz))
    bad("random.nii.gz", gz(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()))
    big = labels(shape=(40, 40, 40)).tobytes(order="F")
    whole = gz(header(dims=(40, 40, 40)) + big)
    bad("truncated_gzip.nii.gz", whole[: len(whole) // 2])
    bad("random.nii", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    floats = labels(dtype=np.float32)
    floats[3, 4, 3] = np.nan
    bad("nan_labels.nii", header(datatype=16, bitpix=32) + floats.tobytes(order="F"))
    floats = labels(dtype=np.float32)
    floats[5, 5, 5] = 1.5
    bad("fractional_labels.nii", header(datatype=16, bitpix=32) + floats.tobytes(order="F"))
    bad("extent_4d.nii", header(dims=(10, 10, 10, 3)) + body * 3)
    bad("extent_5d.nii", header(dims=(10, 10, 10, 1, 2)) + body * 2)
    h = bytearray(header())
    h[344:348] = b"ni1\0"
    bad("lonely.hdr", bytes(h[:348]), 66)
    os.makedirs(os.path.join(OUT, "a_directory.nii"), exist_ok=True)
    write(os.path.join("a_directory.nii", ".keep"), b"")
    expected["a_directory.nii"] = 66
    expected["missing.nii"] = 66
    # Pairs whose geometry differs from good.nii's.
    write("other_dims.nii", header(dims=(10, 10, 11)) + labels(shape=(10, 10, 11)).tobytes(order="F"))
    write("shifted_origin.nii", header(qform=0, sform=1, srow=(1, 0, 0, 4, 0, 1, 0, 0, 0, 0, 1, 0)) + body)
    write("flipped_axis.nii", header(qform=0, sform=1, srow=(-1, 0, 0, 9, 0, 1, 0, 0, 0, 0, 1, 0)) + body)
    # Inputs the fuzzer found (scripts/fuzz), kept as regression tests: fuzz-ok-* are valid
    # (they once crashed or hung), the other fuzz-* are bad data.
    for name in sorted(os.listdir(OUT)):
        if name.startswith("fuzz-"):
            expected[name] = 0 if name.startswith("fuzz-ok-") else 65
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
