// PCRE2, 8-bit code units, as seen by StreamForgeCore's regex wrapper.
#ifndef STREAMFORGE_CPCRE2_SHIM_H
#define STREAMFORGE_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
