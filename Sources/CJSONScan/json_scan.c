// Everything is in include/sf_json_scan.h (static inline, for Swift to inline); a C target
// needs one source file.
#include "sf_json_scan.h"
