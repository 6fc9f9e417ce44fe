/*
 * Linked into the wheel's libMaskEvalC.so only (scripts/wheel). Debian's libnifti2.a and
 * libznz.a are not compiled with -fPIC: their code reaches glibc's `stderr` and `stdout`
 * with 32-bit PC-relative relocations, which a shared library cannot resolve against
 * another library's data. Defining both symbols here, hidden, lets the linker resolve those
 * relocations inside the library; a constructor points them at glibc's own streams before
 * any nifticlib code runs, so nifticlib prints to the process's stdout/stderr as before.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

#undef stderr
#undef stdout
__attribute__((visibility("hidden"))) FILE *stderr;
__attribute__((visibility("hidden"))) FILE *stdout;

__attribute__((constructor)) static void maskeval_wheel_bind_stdio(void) {
    FILE **libc_stderr = (FILE **)dlsym(RTLD_NEXT, "stderr");
    FILE **libc_stdout = (FILE **)dlsym(RTLD_NEXT, "stdout");
    stderr = libc_stderr ? *libc_stderr : fdopen(2, "w");
    stdout = libc_stdout ? *libc_stdout : fdopen(1, "w");
}
