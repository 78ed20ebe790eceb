// Helpers shared by the shims' .c files; not part of the public header.
#ifndef SUPERRES_SHIM_INTERNAL_H
#define SUPERRES_SHIM_INTERNAL_H

#include "CImageShims.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SUPERRES_HOST_LITTLE_ENDIAN 1
#else
#define SUPERRES_HOST_LITTLE_ENDIAN 0
#endif

/// Copies `text` into `message` (size `size`), cutting it and always terminating it.
void superres_set_message(char *message, size_t size, const char *text);

/// Leaves `text` in `message` as superres_set_message does and returns `status`: how the shims' failure paths end.
superres_status superres_fail(char *message, size_t size, superres_status status, const char *text);

/// Appends `count` bytes; 0 when out of memory.
int superres_buffer_append(superres_buffer *buffer, const uint8_t *bytes, size_t count);

/// Writes all of `bytes` to the file `fd`, retrying short writes and interruptions; 0 (errno set) on failure.
int superres_write_all(int fd, const uint8_t *bytes, size_t count);

#endif
