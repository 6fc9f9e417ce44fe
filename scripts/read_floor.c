/* The floors for MaskEval's run time: reading the given NIfTI files and nothing else.
   Built and run by scripts/bench:

     read_floor [--runs N] FILE...

   prints one line per reader, "NAME SECONDS", each the best of N runs (default 5) of reading
   every FILE, one after the other, into a fresh buffer:
     nifticlib   nifti_image_read (header and voxels, through znz and zlib's gzread)
     zlib        the whole file through zlib's gzread in one call (the inflated size taken
                 from the gzip trailer)
     libdeflate  the compressed file read whole, then libdeflate_gzip_decompress in one call
     isal        the same with ISA-L's isal_inflate (only when built with -DWITH_ISAL -lisal)
   Plain (not gzip) files are read with read(2) by the last three. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libdeflate.h>
#include <nifti2_io.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#ifdef WITH_ISAL
#include <isa-l/igzip_lib.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* The compressed file, whole. */
static unsigned char *slurp(const char *path, size_t *size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  struct stat info;
  fstat(fd, &info);
  *size = (size_t)info.st_size;
  unsigned char *bytes = malloc(*size ? *size : 1);
  size_t done = 0;
  while (done < *size) {
    ssize_t got = read(fd, bytes + done, *size - done);
    if (got <= 0) break;
    done += (size_t)got;
  }
  close(fd);
  *size = done;
  return bytes;
}

static int is_gzip(const unsigned char *bytes, size_t size) {
  return size >= 18 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/* ISIZE, the gzip trailer's inflated size (mod 2^32). */
static size_t trailer_size(const unsigned char *bytes, size_t size) {
  const unsigned char *t = bytes + size - 4;
  return (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
}

static int read_nifticlib(const char *path) {
  nifti_image *image = nifti_image_read(path, 1);
  if (!image) return 1;
  nifti_image_free(image);
  return 0;
}

static int read_zlib(const char *path) {
  /* The trailer gives the buffer size, as it does for the one-call inflaters. */
  size_t size;
  unsigned char *head = slurp(path, &size);
  if (!head) return 1;
  size_t out_size = is_gzip(head, size) ? trailer_size(head, size) : size;
  free(head);
  gzFile file = gzopen(path, "rb");
  if (!file) return 1;
  gzbuffer(file, 1 << 20);
  unsigned char *out = malloc(out_size ? out_size : 1);
  int got = gzread(file, out, (unsigned)out_size);
  gzclose(file);
  free(out);
  return got != (int)out_size;
}

static int read_libdeflate(const char *path) {
  size_t size;
  unsigned char *in = slurp(path, &size);
  if (!in) return 1;
  if (!is_gzip(in, size)) {
    free(in);
    return 0;
  }
  size_t out_size = trailer_size(in, size);
  unsigned char *out = malloc(out_size ? out_size : 1);
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  enum libdeflate_result r = libdeflate_gzip_decompress(d, in, size, out, out_size, NULL);
  libdeflate_free_decompressor(d);
  free(in);
  free(out);
  return r != LIBDEFLATE_SUCCESS;
}

#ifdef WITH_ISAL
static int read_isal(const char *path) {
  size_t size;
  unsigned char *in = slurp(path, &size);
  if (!in) return 1;
  if (!is_gzip(in, size)) {
    free(in);
    return 0;
  }
  size_t out_size = trailer_size(in, size);
  unsigned char *out = malloc(out_size ? out_size : 1);
  struct inflate_state state;
  isal_inflate_init(&state);
  state.crc_flag = ISAL_GZIP;
  state.next_in = in;
  state.avail_in = (uint32_t)size;
  state.next_out = out;
  state.avail_out = (uint32_t)out_size;
  int r = isal_inflate(&state);
  int ok = r == ISAL_DECOMP_OK && state.block_state == ISAL_BLOCK_FINISH && state.total_out == out_size;
  free(in);
  free(out);
  return !ok;
}
#endif

static double best(int (*reader)(const char *), char **files, int count, int runs) {
  double fastest = 1e30;
  for (int run = 0; run < runs; run++) {
    double start = now();
    for (int i = 0; i < count; i++)
      if (reader(files[i])) {
        fprintf(stderr, "read_floor: cannot read %s\n", files[i]);
        exit(1);
      }
    double elapsed = now() - start;
    if (elapsed < fastest) fastest = elapsed;
  }
  return fastest;
}

int main(int argc, char **argv) {
  int runs = 5;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
    runs = atoi(argv[2]);
    first = 3;
  }
  if (first >= argc || runs < 1) {
    fprintf(stderr, "usage: read_floor [--runs N] FILE...\n");
    return 64;
  }
  char **files = argv + first;
  int count = argc - first;
  printf("nifticlib %.4f\n", best(read_nifticlib, files, count, runs));
  printf("zlib %.4f\n", best(read_zlib, files, count, runs));
  printf("libdeflate %.4f\n", best(read_libdeflate, files, count, runs));
#ifdef WITH_ISAL
  printf("isal %.4f\n", best(read_isal, files, count, runs));
#endif
  return 0;
}
