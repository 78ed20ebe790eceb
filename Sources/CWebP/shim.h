// libwebp's decoder, encoder, demuxer and muxer, found through pkg-config (libwebp).
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/demux.h>
#include <webp/mux.h>
