/*
 * The libFuzzer entry points every fuzz target defines, declared once so the
 * targets build under -Wmissing-prototypes like the rest of the tree.
 */
#ifndef MLP_FUZZ_H
#define MLP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
