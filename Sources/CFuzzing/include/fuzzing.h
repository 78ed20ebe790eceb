// libFuzzer's entry point for programs that have their own main (LLVM's FuzzerInterface.h). Only the driver built by
// scripts/fuzz (with -sanitize=fuzzer) calls it; other builds never reference it.
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));
