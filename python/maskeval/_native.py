"""ctypes bindings to libMaskEvalC (Sources/MaskEvalC/include/maskeval.h).

The library is found, in order: the file named by the environment variable
MASKEVAL_LIBRARY (a development build), then the copy installed inside this package.
Every call releases the GIL (ctypes does so for CDLL functions), so threads evaluating
different cases run in parallel.
"""
import ctypes
import json
import os
import sys

from . import errors

ABI_VERSION = 1

_LIBRARY_NAME = "libMaskEvalC.dylib" if sys.platform == "darwin" else "libMaskEvalC.so"

# Element type codes (maskeval.h: the NIfTI DT_* codes) by numpy dtype character code.
TYPE_CODES = {
    "u1": 2, "i2": 4, "i4": 8, "f4": 16, "f8": 64, "i1": 256, "u2": 512, "u4": 768, "i8": 1024, "u8": 1280,
}
BYTE_SWAPPED = 0x10000

_c_int64_p = ctypes.POINTER(ctypes.c_int64)
_c_double_p = ctypes.POINTER(ctypes.c_double)


def _library_path():
    override = os.environ.get("MASKEVAL_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIBRARY_NAME)


def _load():
    path = _library_path()
    if not os.path.exists(path):
        raise ImportError(
            "maskeval: the native library %s is missing; install the package with 'pip install ./python' "
            "(which builds it with the Swift toolchain) or a binary wheel, or set MASKEVAL_LIBRARY" % path)
    lib = ctypes.CDLL(path)
    signatures = {
        "maskeval_version": (ctypes.c_char_p, []),
        "maskeval_abi_version": (ctypes.c_int32, []),
        "maskeval_options_new": (ctypes.c_void_p, []),
        "maskeval_options_free": (None, [ctypes.c_void_p]),
        "maskeval_options_set": (ctypes.c_int32, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
        "maskeval_compare_arrays": (ctypes.c_void_p, [
            ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, _c_int64_p, _c_int64_p,
            ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, _c_int64_p, _c_int64_p,
            _c_double_p, ctypes.c_int32, ctypes.c_void_p]),
        "maskeval_compare_files": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]),
        "maskeval_batch_cases": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]),
        "maskeval_batch_case": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]),
        "maskeval_batch_summary": (ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_void_p]),
        "maskeval_result_status": (ctypes.c_int32, [ctypes.c_void_p]),
        "maskeval_result_error_kind": (ctypes.c_int32, [ctypes.c_void_p]),
        "maskeval_result_json": (ctypes.c_char_p, [ctypes.c_void_p]),
        "maskeval_result_text": (ctypes.c_char_p, [ctypes.c_void_p]),
        "maskeval_result_message": (ctypes.c_char_p, [ctypes.c_void_p]),
        "maskeval_result_engine_seconds": (ctypes.c_double, [ctypes.c_void_p]),
        "maskeval_result_free": (None, [ctypes.c_void_p]),
    }
    if hasattr(lib, "maskeval_result_notes"):  # absent from libraries before the notes
        signatures["maskeval_result_notes"] = (ctypes.c_char_p, [ctypes.c_void_p])
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    abi = lib.maskeval_abi_version()
    if abi != ABI_VERSION:
        raise ImportError("maskeval: %s has ABI version %d, this package needs %d" % (path, abi, ABI_VERSION))
    return lib


_lib = _load()

#: The engine's version (the `maskeval_version` of the JSON reports).
ENGINE_VERSION = _lib.maskeval_version().decode()


class Options:
    """A maskeval_options object, filled from CLI option names and text values."""

    def __init__(self, values):
        self._handle = _lib.maskeval_options_new()
        if not self._handle:
            raise MemoryError("maskeval_options_new")
        for name, value in values.items():
            if value is None:
                continue
            if _lib.maskeval_options_set(self._handle, name.encode(), str(value).encode()) != 0:
                raise errors.InputError("unknown option %r" % name, 64)

    @property
    def handle(self):
        return self._handle

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _lib.maskeval_options_free(handle)


class Result:
    """The parts of one successful maskeval_result as Python objects. The text (the CLI's
    table) is made by the library on first use, so the C result is kept until then and freed
    with this object."""

    __slots__ = ("json_text", "engine_seconds", "notes", "_handle", "_text")

    def __init__(self, handle):
        self.json_text = _lib.maskeval_result_json(handle).decode("utf-8")
        self.engine_seconds = _lib.maskeval_result_engine_seconds(handle)
        notes = _lib.maskeval_result_notes(handle) if hasattr(_lib, "maskeval_result_notes") else None
        self.notes = notes.decode("utf-8").split("\n") if notes else []
        self._handle = handle
        self._text = None

    @property
    def text(self):
        if self._handle:
            text = _lib.maskeval_result_text(self._handle)
            self._text = text.decode("utf-8") if text is not None else None
            self._release()
        return self._text

    def document(self):
        return json.loads(self.json_text)

    def _release(self):
        handle, self._handle = self._handle, None
        if handle and _lib is not None:  # None only at interpreter exit
            _lib.maskeval_result_free(handle)

    def __del__(self):
        self._release()


def take(handle):
    """The result of a call; raises its error (and frees it)."""
    if not handle:
        raise MemoryError("maskeval: the library could not allocate a result")
    status = _lib.maskeval_result_status(handle)
    if status != 0:
        try:
            message = (_lib.maskeval_result_message(handle) or b"").decode("utf-8", "replace")
            raise errors.from_status(status, _lib.maskeval_result_error_kind(handle), message)
        finally:
            _lib.maskeval_result_free(handle)
    try:
        return Result(handle)
    except BaseException:
        _lib.maskeval_result_free(handle)
        raise


def compare_arrays(reference, prediction, spacing, options):
    """Calls maskeval_compare_arrays on two prepared numpy arrays (see api._array_argument)."""
    def describe(array, code):
        rank = array.ndim
        shape = (ctypes.c_int64 * max(rank, 1))(*array.shape)
        strides = (ctypes.c_int64 * max(rank, 1))(*[s // array.itemsize for s in array.strides])
        return ctypes.c_void_p(array.ctypes.data), code, rank, shape, strides

    ref = describe(*reference)
    pred = describe(*prediction)
    spacing_c = (ctypes.c_double * max(len(spacing), 1))(*spacing)
    return take(_lib.maskeval_compare_arrays(*ref, *pred, spacing_c, len(spacing), options.handle))


def _path(value):
    return None if value is None else os.fsencode(value)


def compare_files(reference, prediction, options):
    return take(_lib.maskeval_compare_files(_path(reference), _path(prediction), options.handle))


def batch_cases(first, prediction_folder):
    return take(_lib.maskeval_batch_cases(_path(first), _path(prediction_folder)))


def batch_case(case_id, reference, prediction, options):
    return take(_lib.maskeval_batch_case(str(case_id).encode(), _path(reference), _path(prediction), options.handle))


def batch_summary(rows_json, options):
    return take(_lib.maskeval_batch_summary(rows_json.encode(), options.handle))
