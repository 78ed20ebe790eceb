// lcms2 (Little CMS), found through pkg-config (lcms2).
#include <lcms2.h>
