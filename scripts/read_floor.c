/* The floor for MaskEval's run time: nifticlib reading the given NIfTI files, nothing else.
   Built and run by scripts/bench. */
#include <nifti2_io.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 1; i < argc; i++) {
    nifti_image *image = nifti_image_read(argv[i], 1);
    if (!image) return 1;
    nifti_image_free(image);
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.4f\n", (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
  return 0;
}
