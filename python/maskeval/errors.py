"""MaskEval's exceptions: the CLI's one-line message, its exit status as `.status`."""


class MaskEvalError(Exception):
    """Any error of MaskEval; `.status` is the exit status the CLI gives for it."""

    def __init__(self, message, status=70):
        super().__init__(message)
        self.message = message
        self.status = status


class InputError(MaskEvalError, ValueError):
    """Bad input data or option value: labels, shapes, spacing, NIfTI headers (CLI status 64 or 65)."""


class GeometryError(MaskEvalError):
    """The prediction's grid differs from the reference's (CLI status 65); pass resample=True
    or ignore_geometry=True to compare_files."""


class MissingFileError(MaskEvalError, FileNotFoundError):
    """An input file is missing or unreadable (CLI status 66)."""

    def __init__(self, message, status=66):
        MaskEvalError.__init__(self, message, status)

    def __str__(self):
        return self.message


class MaskEvalWarning(UserWarning):
    """What the CLI notes on stderr after a report: a label asked for that is in neither
    volume, an ignore label not in the reference, an undefined biou, binary masks stored with
    other values. The numbers are computed; the warning says what they may hide."""


# maskeval.h MASKEVAL_ERROR_* kinds
_KINDS = {1: InputError, 2: InputError, 3: GeometryError, 4: MissingFileError}


def from_status(status, kind, message):
    return _KINDS.get(kind, MaskEvalError)(message, status)
