// The cancellation flag the codecs check: an atomic request and an atomic deadline on CLOCK_MONOTONIC.
#include "shim_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct superres_cancel {
    atomic_int requested;
    /// CLOCK_MONOTONIC nanoseconds after which the request counts as made; 0: none.
    _Atomic uint64_t deadline;
};

static uint64_t monotonic_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

superres_cancel *superres_cancel_create(void) {
    superres_cancel *cancel = calloc(1, sizeof *cancel);
    if (cancel == NULL) return NULL;
    atomic_init(&cancel->requested, 0);
    atomic_init(&cancel->deadline, 0);
    return cancel;
}

void superres_cancel_destroy(superres_cancel *cancel) { free(cancel); }

void superres_cancel_request(superres_cancel *cancel) {
    atomic_store_explicit(&cancel->requested, 1, memory_order_relaxed);
}

void superres_cancel_set_timeout(superres_cancel *cancel, uint64_t nanoseconds) {
    uint64_t deadline = 0;
    if (nanoseconds > 0) {
        uint64_t now = monotonic_now();
        deadline = nanoseconds > UINT64_MAX - now ? UINT64_MAX : now + nanoseconds;
    }
    atomic_store_explicit(&cancel->deadline, deadline, memory_order_relaxed);
}

int superres_cancel_is_requested(const superres_cancel *cancel) {
    if (cancel == NULL) return 0;
    superres_cancel *flag = (superres_cancel *)cancel;  // atomic loads take non-const pointers in C11
    if (atomic_load_explicit(&flag->requested, memory_order_relaxed)) return 1;
    uint64_t deadline = atomic_load_explicit(&flag->deadline, memory_order_relaxed);
    return deadline != 0 && monotonic_now() >= deadline;
}
