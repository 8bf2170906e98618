// Everything is inline in include/process_shim.h; SwiftPM needs one source file per C target.
#include "process_shim.h"
