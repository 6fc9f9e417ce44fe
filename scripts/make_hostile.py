#!/usr/bin/env python3
"""Writes the hostile-input corpus to Tests/Corpus/hostile/ (deterministic; numpy only).

Each file is one way a NIfTI input can be wrong; Tests/MaskEvalCLITests/HostileInputTests
runs every one as reference and as prediction for `compare`, and through `info`, and expects
the documented exit code, at most two lines on stderr naming the file, and no crash.
expected.json (name -> exit code) is the contract the tests read. Files named fuzz-* are
inputs the fuzzer found (scripts/fuzz); they are kept, not generated (fuzz-ok-*.hdr/.img are
made here from the two ANALYZE fuzz inputs, which a single .nii may no longer be). Files named
ok_* are valid inputs of a kind the reader once refused or misread (exit 0).
"""
import gzip
import io
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Corpus", "hostile")


def header(dims=(10, 10, 10), datatype=2, bitpix=8, pixdim=(1.0, 1.0, 1.0, 1.0), vox_offset=352.0, qform=1,
           sform=0, srow=None, slope=1.0, inter=0.0, ndim=None, magic=b"n+1\0", quatern=(0, 0, 0, 0, 0, 0),
           units=2, extender=0, order="<"):
    """A NIfTI-1 header and its 4-byte extender (byte order `order`: "<" or ">")."""
    h = bytearray(352)
    struct.pack_into(order + "i", h, 0, 348)
    dim = [ndim if ndim is not None else len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into(order + "8h", h, 40, *dim)
    struct.pack_into(order + "h", h, 70, datatype)
    struct.pack_into(order + "h", h, 72, bitpix)
    struct.pack_into(order + "8f", h, 76, *(list(pixdim) + [0.0] * (8 - len(pixdim))))
    struct.pack_into(order + "f", h, 108, vox_offset)
    struct.pack_into(order + "2f", h, 112, slope, inter)
    h[123] = units
    struct.pack_into(order + "h", h, 252, qform)
    struct.pack_into(order + "h", h, 254, sform)
    struct.pack_into(order + "6f", h, 256, *quatern)
    if srow is not None:
        struct.pack_into(order + "12f", h, 280, *srow)
    h[344:348] = magic
    h[348] = extender
    return bytes(h)


def header2(dims=(10, 10, 10), datatype=2, bitpix=8, pixdim=(1.0, 1.0, 1.0, 1.0), vox_offset=544, qform=1,
            magic=b"n+2\0\r\n\x1a\n", order="<"):
    """A NIfTI-2 header and its 4-byte extender."""
    h = bytearray(544)
    struct.pack_into(order + "i", h, 0, 540)
    h[4:12] = magic
    struct.pack_into(order + "2h", h, 12, datatype, bitpix)
    struct.pack_into(order + "8q", h, 16, len(dims), *(list(dims) + [1] * (7 - len(dims))))
    struct.pack_into(order + "8d", h, 104, *(list(pixdim) + [0.0] * (8 - len(pixdim))))
    struct.pack_into(order + "q", h, 168, vox_offset)
    struct.pack_into(order + "2d", h, 176, 1.0, 0.0)
    struct.pack_into(order + "2i", h, 344, qform, 0)
    struct.pack_into(order + "i", h, 500, 2)
    return bytes(h)


def extension(size, code=6, order="<"):
    """One header extension of `size` bytes (esize, ecode, then zeros)."""
    return struct.pack(order + "2i", size, code) + bytes(max(0, size - 8))


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
    # Every voxel there, the 8-byte trailer (CRC-32, size) cut off: zlib ends it quietly.
    bad("gzip_without_trailer.nii.gz", whole[:-8])
    bad("gzip_trailer_cut.nii.gz", whole[:-3])
    # Bytes after the last member that start no other member (zlib's gzread ignored them; a
    # file written over a longer one keeps the old tail). Two members (cat a.gz b.gz) with the
    # voxels split across them are valid and read whole.
    bad("gzip_trailing_garbage.nii.gz", gz(header() + body) + b"trailing bytes\n")
    plain = header() + body
    bad("ok_gzip_two_members.nii.gz", gz(plain[:600]) + gz(plain[600:]), 0)
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

    # Issue #14. vox_offset of a single file: below 352 (+ extensions), negative, NaN/inf,
    # not whole, 2^31 or more, past the end (NIfTI-1's float and NIfTI-2's 64-bit integer).
    for name, offset in [("below_352", 348.0), ("zero", 0.0), ("negative", -352.0), ("nan", float("nan")),
                         ("inf", float("inf")), ("fractional", 352.5), ("2_31", 2.0 ** 31)]:
        bad("vox_offset_%s.nii" % name, header(vox_offset=offset) + body)
    bad("nifti2_vox_offset_540.nii", header2(vox_offset=540) + body)
    bad("nifti2_vox_offset_2_40.nii", header2(vox_offset=2 ** 40) + body)
    # .hdr/.img: the offset is into the .img, whole and from 0; never printed as -2^31.
    def pair(name, head, image, code):
        write(name + ".img", image)
        bad(name + ".hdr", head[:348], code)
    pair("pair_offset_negative", header(magic=b"ni1\0", vox_offset=-1e10), body, 65)
    pair("pair_offset_3e9", header(magic=b"ni1\0", vox_offset=3e9), body, 65)
    pair("pair_offset_past_end", header(magic=b"ni1\0", vox_offset=4096.0), body, 65)
    # Magic: a single file carries n+1/n+2; ANALYZE 7.5 only as a plausible .hdr/.img pair.
    bad("magic_ni1_single.nii", header(magic=b"ni1\0") + body)
    bad("magic_garbage.nii", header(magic=b"xyz\0") + body)
    bad("analyze_single.nii", header(magic=b"\0\0\0\0") + body)
    bad("nifti2_magic_n+1.nii", header2(magic=b"n+1\0\r\n\x1a\n") + body)
    pair("magic_n+1_pair", header(), body, 65)
    pair("analyze_bitpix_mismatch", header(magic=b"\0\0\0\0", vox_offset=0.0, bitpix=16), body, 65)
    pair("ok_analyze", header(magic=b"\0\0\0\0", vox_offset=0.0), body, 0)
    pair("ok_header_gz_image", header(magic=b"ni1\0", vox_offset=0.0), b"", 0)  # the .img is gzip, below
    os.remove(os.path.join(OUT, "ok_header_gz_image.img"))
    write("ok_header_gz_image.img.gz", gz(body))
    # Extensions: a size below 16 or not a multiple of 16, or running past vox_offset.
    bad("extension_size_0.nii", header(vox_offset=368.0, extender=1) + extension(0) + bytes(8) + body)
    bad("extension_size_20.nii", header(vox_offset=384.0, extender=1) + extension(20) + bytes(12) + body)
    bad("extension_past_vox_offset.nii", header(vox_offset=368.0, extender=1) + extension(32) + body)
    bad("ok_extension.nii", header(vox_offset=384.0, extender=1) + extension(32) + body, 0)
    # 64 MiB of extension in 65 KB of gzip: skipped by seeking, never held in memory.
    bad("ok_extension_64mib.nii.gz", gz(header(vox_offset=352.0 + 2 ** 26, extender=1) + extension(2 ** 26) + body), 0)
    # Geometry fields in use must be finite; an sform orthogonal and regular.
    bad("nan_quaternion.nii", header(quatern=(float("nan"), 0, 0, 0, 0, 0)) + body)
    bad("inf_qoffset.nii", header(quatern=(0, 0, 0, 0, float("inf"), 0)) + body)
    # A NaN offset keeps the column norms finite: it once passed the geometry check (NaN > tolerance
    # is false) and --resample through it emptied the prediction.
    bad("nan_sform.nii", header(qform=0, sform=1, srow=(1, 0, 0, float("nan"), 0, 1, 0, 0, 0, 0, 1, 0)) + body)
    shear = (1, 0.5, 0, 0, 0, 0.75 ** 0.5, 0, 0, 0, 0, 1, 0)  # 60 degrees between i and j
    bad("sheared_sform.nii", header(qform=0, sform=1, srow=shear) + body)
    bad("singular_sform.nii", header(qform=0, sform=1, srow=(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0)) + body)
    # qfac other than +-1 counts as 1 (nibabel); spacing limits apply after unit scaling.
    bad("ok_qfac_half.nii", header(pixdim=(-0.5, 1.0, 1.0, 1.0)) + body, 0)
    bad("metre_spacing_2km.nii", header(pixdim=(1.0, 2000.0, 1.0, 1.0), units=1) + body)
    bad("micron_spacing_0.5nm.nii", header(pixdim=(1.0, 0.0005, 1.0, 1.0), units=3) + body)
    # Big-endian files read exactly as the little-endian copy (good.nii).
    bad("ok_big_endian.nii", header(order=">") + body, 0)
    bad("ok_big_endian_int16.nii.gz", gz(header(datatype=4, bitpix=16, order=">")
                                         + labels(dtype=">i2").tobytes(order="F")), 0)
    bad("ok_big_endian_nifti2.nii", header2(order=">") + body, 0)
    # Axes the engine's Int32 indices cannot hold, and dims whose byte count overflows.
    bad("nifti2_axis_2_31.nii", header2(dims=(2 ** 31, 1, 1)) + body)
    bad("nifti2_dims_overflow.nii", header2(dims=(2 ** 22, 2 ** 22, 2 ** 22), datatype=64, bitpix=64) + body)
    # A gzip bomb: 10^9 voxels declared in a small gzip file, refused before inflating.
    bad("gzip_bomb.nii.gz", gz(header(dims=(1000, 1000, 1000)) + bytes(2 ** 20)))

    # Inputs the fuzzer found (scripts/fuzz), kept as regression tests: fuzz-ok-* are valid
    # (they once crashed or hung), the other fuzz-* are bad data. The two ANALYZE inputs
    # (a 1x1x1 image, a spacing that overflowed) become .hdr/.img pairs that still reach
    # the code they once broke: header from the file, data from byte 348 (the one voxel
    # set to label 1) or from their vox_offset.
    for name, source in [("fuzz-ok-single-voxel", "fuzz-single-voxel-analyze.nii"),
                         ("fuzz-ok-spacing-overflow", "fuzz-spacing-overflow-analyze.nii")]:
        raw = open(os.path.join(OUT, source), "rb").read()
        offset = int(struct.unpack("<f", raw[108:112])[0])
        image = raw[offset:] if offset >= 352 else b"\x01" + raw[349:]
        head = bytearray(raw[:348])
        struct.pack_into("<f", head, 108, 0.0)
        write(name + ".img", image)
        write(name + ".hdr", bytes(head))
    for name in sorted(os.listdir(OUT)):
        if name.startswith("fuzz-") and not name.endswith(".img"):
            expected[name] = 0 if name.startswith("fuzz-ok-") else 65
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
