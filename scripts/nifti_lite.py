"""Minimal NIfTI-1 reading and writing with numpy alone, for the sample and benchmark
generators (so they need no nibabel). Handles what those scripts use: single-file
.nii/.nii.gz, little-endian, integer label types, sform geometry."""
import gzip
import struct

import numpy as np

_DTYPES = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8,
           512: np.uint16, 768: np.uint32}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def read(path):
    """Returns (array indexed [i, j, k], 4x4 affine, description)."""
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    if struct.unpack("<i", raw[:4])[0] != 348:
        raise ValueError("%s: not a little-endian NIfTI-1 file" % path)
    dims = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    pixdim = struct.unpack("<8f", raw[76:108])
    vox_offset = int(struct.unpack("<f", raw[108:112])[0])
    slope, inter = struct.unpack("<2f", raw[112:120])
    sform_code = struct.unpack("<h", raw[254:256])[0]
    srow = struct.unpack("<12f", raw[280:328])
    shape = tuple(dims[1:1 + dims[0]])
    data = np.frombuffer(raw, dtype=_DTYPES[datatype], count=int(np.prod(shape)), offset=vox_offset)
    data = data.reshape(shape, order="F")
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data * slope + inter
    affine = np.eye(4)
    if sform_code > 0:
        affine[:3, :] = np.array(srow).reshape(3, 4)
    else:
        affine[0, 0], affine[1, 1], affine[2, 2] = pixdim[1:4]
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    return np.ascontiguousarray(data), affine


def write(path, data, affine, description="MaskEval sample"):
    """Writes a NIfTI-1 single file (gzip when the name ends in .gz) with the affine as
    sform (sform_code 1, qform_code 0)."""
    data = np.asarray(data)
    code = _CODES[data.dtype]
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    dims = [3] + list(data.shape) + [1] * (7 - data.ndim)
    struct.pack_into("<8h", header, 40, *dims)
    struct.pack_into("<h", header, 70, code)
    struct.pack_into("<h", header, 72, data.dtype.itemsize * 8)
    spacing = [float(np.linalg.norm(affine[:3, c])) for c in range(3)]
    struct.pack_into("<8f", header, 76, 1.0, *spacing, 0, 0, 0, 0)
    struct.pack_into("<f", header, 108, 352.0)
    struct.pack_into("<2f", header, 112, 1.0, 0.0)
    header[123] = 2  # xyzt_units: mm
    desc = description.encode()[:79]
    header[148:148 + len(desc)] = desc
    struct.pack_into("<h", header, 254, 1)
    struct.pack_into("<12f", header, 280, *affine[:3, :].reshape(-1))
    header[344:348] = b"n+1\0"
    body = bytes(header) + np.asfortranarray(data).tobytes(order="F")
    if path.endswith(".gz"):
        # mtime 0: the same data always gives the same bytes.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(body)
    else:
        with open(path, "wb") as f:
            f.write(body)
