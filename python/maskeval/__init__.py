"""MaskEval: Dice, volumes and surface distances in mm of 3-D segmentations, per structure,
with the definitions, statuses and keys of the ``maskeval`` command (presets matching MONAI,
MedPy and DeepMind), computed in-process by the Swift engine on numpy arrays.

    import maskeval
    report = maskeval.compare(reference, prediction, spacing=(0.8, 0.8, 2.5))
    report.labels[0]["hd95_mm"], report.to_pandas()
"""
from ._api import BatchResult, Report, batch, compare, compare_files
from ._native import ENGINE_VERSION
from .errors import GeometryError, InputError, MaskEvalError, MaskEvalWarning, MissingFileError

__version__ = ENGINE_VERSION

__all__ = [
    "compare", "compare_files", "batch", "Report", "BatchResult", "MaskEvalError", "InputError", "GeometryError",
    "MissingFileError", "MaskEvalWarning", "__version__",
]
