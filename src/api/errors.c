/* Status names and the library's version. */
#include "elang.h"

const char *elang_status_name(elang_status s) {
    switch (s) {
    case ELANG_OK: return "ok";
    case ELANG_ERR_IO: return "I/O error";
    case ELANG_ERR_FORMAT: return "format error";
    case ELANG_ERR_UNSUPPORTED: return "unsupported";
    case ELANG_ERR_INVALID_ARG: return "invalid argument";
    case ELANG_ERR_INPUT: return "invalid input";
    case ELANG_ERR_NOMEM: return "out of memory";
    }
    return "unknown error";
}

const char *elang_version(void) { return ELANG_VERSION; }
