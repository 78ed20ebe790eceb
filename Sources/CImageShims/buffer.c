// The growable output buffer of the encoders, the message helper and the streaming writers' file output; no
// library calls here.
#include "shim_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void superres_set_message(char *message, size_t size, const char *text) {
    if (message == NULL || size == 0) return;
    if (text == NULL) text = "";
    size_t length = strlen(text);
    if (length >= size) length = size - 1;
    memcpy(message, text, length);
    message[length] = '\0';
}

superres_status superres_fail(char *message, size_t size, superres_status status, const char *text) {
    superres_set_message(message, size, text);
    return status;
}

int superres_buffer_reserve(superres_buffer *buffer, size_t extra) {
    if (extra <= buffer->capacity - buffer->size) return 1;
    if (extra > SIZE_MAX - buffer->size) return 0;
    size_t needed = buffer->size + extra;
    size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
    while (capacity < needed) {
        if (capacity > SIZE_MAX / 2) {
            capacity = needed;
            break;
        }
        capacity *= 2;
    }
    uint8_t *data = realloc(buffer->data, capacity);
    if (data == NULL) return 0;
    buffer->data = data;
    buffer->capacity = capacity;
    return 1;
}

int superres_buffer_append(superres_buffer *buffer, const uint8_t *bytes, size_t count) {
    if (count == 0) return 1;
    if (!superres_buffer_reserve(buffer, count)) return 0;
    memcpy(buffer->data + buffer->size, bytes, count);
    buffer->size += count;
    return 1;
}

void superres_buffer_free(superres_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->size = 0;
    buffer->capacity = 0;
}

int superres_write_all(int fd, const uint8_t *bytes, size_t count) {
    while (count > 0) {
        ssize_t written = write(fd, bytes, count);
        if (written < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        bytes += written;
        count -= (size_t)written;
    }
    return 1;
}
