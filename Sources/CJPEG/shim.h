// libjpeg(-turbo), found through pkg-config (libjpeg). Only CImageShims includes it: libjpeg reports fatal errors by
// longjmp, so Swift code never calls it directly. jpeglib.h needs size_t and FILE declared before it.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
