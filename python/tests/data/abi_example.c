/* A C caller of maskeval.h, compiled and run by test_c_abi.py: compares two small label
 * arrays (a C-ordered uint8 reference, a big-endian int16 prediction), then a bad spacing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "maskeval.h"

int main(void) {
    if (maskeval_abi_version() != MASKEVAL_ABI_VERSION) return 2;
    enum { NX = 6, NY = 5, NZ = 4 };
    uint8_t reference[NX][NY][NZ];  /* C order: element [i][j][k] */
    uint16_t prediction[NX][NY][NZ];
    memset(reference, 0, sizeof reference);
    memset(prediction, 0, sizeof prediction);
    for (int i = 1; i < 4; i++)
        for (int j = 1; j < 4; j++)
            for (int k = 1; k < 3; k++) {
                reference[i][j][k] = 7;
                /* 7, stored big-endian */
                prediction[i + 1][j][k] = (uint16_t)(7 << 8);
            }
    int64_t shape[3] = {NX, NY, NZ};
    int64_t strides[3] = {NY * NZ, NZ, 1};
    double spacing[3] = {1.0, 2.0, 3.0};
    maskeval_options *options = maskeval_options_new();
    maskeval_options_set(options, "threads", "1");
    maskeval_options_set(options, "compat", "all");
    maskeval_result *result = maskeval_compare_arrays(
        reference, MASKEVAL_UINT8, 3, shape, strides, prediction, MASKEVAL_INT16 | MASKEVAL_BYTE_SWAPPED, 3, shape,
        strides, spacing, 3, options);
    if (maskeval_result_status(result) != 0) {
        fprintf(stderr, "%s\n", maskeval_result_message(result));
        return 1;
    }
    printf("%s\n", maskeval_result_json(result));
    maskeval_result_free(result);
    spacing[1] = -2.0;
    result = maskeval_compare_arrays(
        reference, MASKEVAL_UINT8, 3, shape, strides, prediction, MASKEVAL_INT16 | MASKEVAL_BYTE_SWAPPED, 3, shape,
        strides, spacing, 3, options);
    fprintf(stderr, "%d %d %s\n", maskeval_result_status(result), maskeval_result_error_kind(result),
            maskeval_result_message(result));
    maskeval_result_free(result);
    if (maskeval_options_set(options, "no-such-option", "1") != MASKEVAL_USAGE) return 3;
    maskeval_options_free(options);
    return 0;
}
