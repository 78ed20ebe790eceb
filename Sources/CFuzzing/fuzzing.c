// Declarations are in include/fuzzing.h: libFuzzer itself is linked by -sanitize=fuzzer.
#include "fuzzing.h"

// libFuzzer's own main() (in its runtime) refers to this callback. The driver never uses that main: it starts
// libFuzzer through LLVMFuzzerRunDriver with its own callback. Release links drop the unused main, but unoptimized
// (debug) links keep its reference, so a definition must exist; it is never called.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data;
    (void)size;
    return 0;
}
