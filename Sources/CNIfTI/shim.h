// nifticlib's NIfTI-2 API (reads and writes NIfTI-1 and NIfTI-2). Headers come from
// Debian's libnifti2-dev in /usr/include/nifti; see Package.swift for the search path.
#include <nifti2_io.h>
// zlib (linked by nifticlib already) for the PNG encoder of the HTML report.
#include <zlib.h>
