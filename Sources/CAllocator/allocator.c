#include "CAllocator.h"

#if defined(__GLIBC__)
#include <malloc.h>

int superres_malloc_trim(size_t pad) { return malloc_trim(pad); }

int superres_malloc_keep_freed(int retained_bytes, int mapping_threshold) {
    return mallopt(M_TRIM_THRESHOLD, retained_bytes) && mallopt(M_MMAP_THRESHOLD, mapping_threshold);
}
#else
int superres_malloc_trim(size_t pad) { (void)pad; return 0; }

int superres_malloc_keep_freed(int retained_bytes, int mapping_threshold) {
    (void)retained_bytes;
    (void)mapping_threshold;
    return 0;
}
#endif
