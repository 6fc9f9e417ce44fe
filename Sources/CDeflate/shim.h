// libdeflate (Debian libdeflate-dev): whole-buffer gzip inflation for the NIfTI reader's
// one-call path (Sources/MaskEval/IO/NIfTILibrary.swift, `ReadHandle.inflateWhole`).
#include <libdeflate.h>
