// libtiff, found through pkg-config (libtiff-4).
#include <tiffio.h>
