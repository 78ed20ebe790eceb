// glibc's allocator tuning (malloc.h), which the Glibc module does not export. Elsewhere the calls do nothing.
#ifndef SUPERRES_CALLOCATOR_H
#define SUPERRES_CALLOCATOR_H

#include <stddef.h>

/// Hands the allocator's free memory back to the system (`malloc_trim(pad)`); 1 if memory was released.
int superres_malloc_trim(size_t pad);

/// Keeps up to `retained_bytes` of freed heap memory (`M_TRIM_THRESHOLD`) and maps blocks of `mapping_threshold`
/// bytes or more on their own (`M_MMAP_THRESHOLD`); 1 if both settings were taken.
int superres_malloc_keep_freed(int retained_bytes, int mapping_threshold);

#endif
