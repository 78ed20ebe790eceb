// libpng 1.6, found through pkg-config (libpng16). Only CImageShims includes it: libpng reports fatal errors by
// longjmp, so Swift code never calls it directly.
#include <png.h>
