// libwebp's decoder and encoder, found through pkg-config (libwebp).
#include <webp/decode.h>
#include <webp/encode.h>
