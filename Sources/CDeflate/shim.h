// libdeflate (whole-buffer DEFLATE/zlib compression), found through pkg-config. Only CImageShims includes it.
#include <libdeflate.h>
