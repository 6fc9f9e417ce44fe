/*
 * maskeval.h — the C interface of MaskEval (libMaskEvalC.so).
 *
 * Evaluates 3-D (and 2-D) segmentations with the engine of the `maskeval` command: per label
 * Dice, volumes and surface distances in mm, with the presets matching MONAI, MedPy and
 * DeepMind. Every call returns the report as the JSON document `maskeval compare --format
 * json` prints for the same inputs (schema_version 1), so any language with a C FFI (Python
 * through ctypes, R, Julia, C++) gets the CLI's numbers, keys and statuses.
 *
 * Versioning: MASKEVAL_ABI_VERSION changes only when a declaration below changes in a way
 * that breaks callers; new functions and new option names keep it. Compare it with
 * maskeval_abi_version() after loading the library.
 *
 * Errors: a call never aborts the process on bad input. It returns a result whose status is
 * the CLI's exit status (0 success, 64 usage, 65 bad data, 66 missing file, 70 internal) with
 * a one-line message that names the input and the problem, as the CLI prints it.
 *
 * Threads: every function is thread-safe; the library holds no mutable global state. A
 * maskeval_options object may be shared by concurrent calls as long as no thread changes it
 * meanwhile. The computation itself runs on `threads` worker threads (option below).
 *
 * Memory: results are owned by the caller and freed with maskeval_result_free; options with
 * maskeval_options_free. Strings returned by accessors live as long as their result.
 */
#ifndef MASKEVAL_H
#define MASKEVAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MASKEVAL_ABI_VERSION 1

/* Element types of label arrays: the NIfTI-1 DT_* codes. Integral floats are accepted as
 * labels; a non-integral or NaN value is an error (status 65) naming the first such voxel. */
#define MASKEVAL_UINT8 2
#define MASKEVAL_INT16 4
#define MASKEVAL_INT32 8
#define MASKEVAL_FLOAT32 16
#define MASKEVAL_FLOAT64 64
#define MASKEVAL_INT8 256
#define MASKEVAL_UINT16 512
#define MASKEVAL_UINT32 768
#define MASKEVAL_INT64 1024
#define MASKEVAL_UINT64 1280
/* OR'ed into a type code: the elements are stored in the other byte order than this
 * machine's (e.g. numpy's '>i2' on x86-64). */
#define MASKEVAL_BYTE_SWAPPED 0x10000

/* Exit statuses (README, "Exit codes"). */
#define MASKEVAL_OK 0
#define MASKEVAL_USAGE 64
#define MASKEVAL_DATA_ERROR 65
#define MASKEVAL_NO_INPUT 66
#define MASKEVAL_INTERNAL_ERROR 70

/* Error kinds: which error the CLI would have met (finer than the status). */
#define MASKEVAL_ERROR_NONE 0
#define MASKEVAL_ERROR_USAGE 1     /* an option value (status 64) */
#define MASKEVAL_ERROR_INPUT 2     /* bad data: labels, shape, spacing, NIfTI header (65) */
#define MASKEVAL_ERROR_GEOMETRY 3  /* the prediction's grid differs from the reference's (65) */
#define MASKEVAL_ERROR_MISSING 4   /* an input file is missing or unreadable (66) */
#define MASKEVAL_ERROR_INTERNAL 5  /* a bug (70) */

typedef struct maskeval_options maskeval_options; /* opaque */
typedef struct maskeval_result maskeval_result;   /* opaque */

/* The library's version ("0.1.0") and ABI version (MASKEVAL_ABI_VERSION). */
const char *maskeval_version(void);
int32_t maskeval_abi_version(void);

/* Options, with the CLI's defaults until set. NULL only when out of memory. */
maskeval_options *maskeval_options_new(void);
void maskeval_options_free(maskeval_options *options);

/*
 * Sets an option by the name of the CLI's long option (without "--") and a value in the
 * CLI's syntax; a flag takes "true" or "false". Values are checked when a call uses them, so
 * a bad value comes back as that call's status 64 with the CLI's message. Returns 0, or 64
 * when the name is unknown.
 *
 *   labels              "1,3,5-9" (default: every non-zero label in either volume)
 *   compat              monai (default), medpy, deepmind, all
 *   tolerance           NSD tolerance in mm (default 1)
 *   percentile          Q of the hdQ_mm key (default 95)
 *   penalty-mm          mm, or "diagonal", replacing +inf in the summary (default none)
 *   binary              every non-zero voxel is label 1 (default false)
 *   threads             worker threads (default: active cores)
 *   resample            files: resample the prediction onto the reference grid
 *   ignore-geometry     files: compare the arrays as they are, with the reference spacing
 *   geometry-tolerance  files: largest corner distance in mm between the grids (default 1e-3)
 *   max-voxels          refuse volumes with more voxels than this
 *
 * Passing value NULL restores the default.
 */
int32_t maskeval_options_set(maskeval_options *options, const char *name, const char *value);

/*
 * Compares two label arrays that share a grid. Each array is described by its first element,
 * its type (MASKEVAL_* code, optionally | MASKEVAL_BYTE_SWAPPED), its rank (1 to 3), its
 * shape and its strides in ELEMENTS (not bytes; negative strides allowed). Array axis n has
 * spacing spacing_mm[n] (mm), and is the NIfTI voxel axis n: element [i][j][k] is voxel
 * (i, j, k). The two shapes must be equal; spacing_count must equal the rank. Axes a rank
 * below 3 lacks have size 1 and spacing 1 mm. The affine of the report is diag(spacing).
 * The arrays are read, never kept or written; they must not change while the call runs. Two
 * arrays of one type among uint8, int8, uint16, int16 and int32, in native byte order, laid
 * out i fastest without gaps (strides 1, shape[0], shape[0]*shape[1]) and aligned, are
 * evaluated in place, with no copy; others are first copied into that layout (in their own
 * type when both share one of those, else as int32). options may be NULL (the defaults).
 *
 * The result's JSON is the CLI's compare report with reference and prediction paths
 * "<reference array>" and "<prediction array>". Never NULL except when out of memory.
 */
maskeval_result *maskeval_compare_arrays(
    const void *reference, int32_t reference_type, int32_t reference_rank, const int64_t *reference_shape,
    const int64_t *reference_strides, const void *prediction, int32_t prediction_type, int32_t prediction_rank,
    const int64_t *prediction_shape, const int64_t *prediction_strides, const double *spacing_mm,
    int32_t spacing_count, const maskeval_options *options);

/*
 * Compares two NIfTI files exactly as `maskeval compare REF PRED --format json` does
 * (geometry check, resample and ignore-geometry options). prediction_path NULL stands for an
 * empty prediction on the reference grid (every structure `missed`).
 */
maskeval_result *maskeval_compare_files(
    const char *reference_path, const char *prediction_path, const maskeval_options *options);

/*
 * Batch building blocks, for callers that spread the cases over their own workers:
 *
 * maskeval_batch_cases: the cases of `maskeval batch REF_FOLDER PRED_FOLDER` (or, with
 *   prediction_folder NULL, of `maskeval batch --pairs CSV`), as JSON
 *   {"cases": [{"case", "reference", "prediction"}], "warnings": [...]}.
 * maskeval_batch_case: the rows of one case, as JSON {"metric_keys": [...], "rows": [...],
 *   "case_facts": [...]} with the row objects of `batch --output rows.json` (a case that cannot
 *   be evaluated gives one row with status "error" and status 0) and what the case tells the
 *   notes beyond its rows (ignored voxels, scaled labels, spacing).
 * maskeval_batch_summary: given {"metric_keys": [...], "rows": [...]} with the rows of all
 *   cases, the JSON that `batch --summary` writes; the result's text is batch's stdout table.
 *   An optional "cases": [ids] names every case evaluated, so that the notes
 *   (maskeval_result_notes) name a case without a row (both of its volumes empty); an
 *   optional "case_facts" (the cases' maskeval_batch_case "case_facts", joined) gives the
 *   notes batch gives from them (an ignore label missing from a case's reference, ...).
 */
maskeval_result *maskeval_batch_cases(const char *reference_folder_or_pairs, const char *prediction_folder);
maskeval_result *maskeval_batch_case(
    const char *case_id, const char *reference_path, const char *prediction_path, const maskeval_options *options);
maskeval_result *maskeval_batch_summary(const char *rows_json, const maskeval_options *options);

/* A result's parts. json and text are NULL on error; message is NULL on success. */
int32_t maskeval_result_status(const maskeval_result *result);
int32_t maskeval_result_error_kind(const maskeval_result *result);
const char *maskeval_result_json(const maskeval_result *result);
/* The report as the CLI's table (compare) or batch's stdout summary (batch_summary), made on
 * the first call (thread-safe) and freed with the result. */
const char *maskeval_result_text(const maskeval_result *result);
const char *maskeval_result_message(const maskeval_result *result);
/* What the CLI says on stderr after a compare report ("note: …", "hint: …": a label in neither
 * volume, an ignore label not in the reference, an undefined biou, binary masks stored with
 * other values), one per line without the "maskeval: " prefix; NULL when there is none or
 * the call failed. Freed with the result. */
const char *maskeval_result_notes(const maskeval_result *result);
/* Seconds the engine spent in the evaluation itself (overlap + distances), for measuring
 * the caller's own overhead; 0 for calls that evaluate nothing. */
double maskeval_result_engine_seconds(const maskeval_result *result);
void maskeval_result_free(maskeval_result *result);

#ifdef __cplusplus
}
#endif

#endif /* MASKEVAL_H */
