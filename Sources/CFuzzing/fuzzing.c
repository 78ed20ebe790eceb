// Declarations only (include/fuzzing.h): libFuzzer itself is linked by -sanitize=fuzzer.
#include "fuzzing.h"
