/* child: see include/util/child.h. */
#include "util/child.h"

#include <stdio.h>
#include <unistd.h>

/* GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_ASAN 1
#endif
#ifdef CHILD_ASAN
#include <sanitizer/lsan_interface.h>
#endif

void child_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
#ifdef CHILD_ASAN
    /* LeakSanitizer checks from an atexit handler, which _exit skips; it
     * exits with its own status if it finds a leak, as it would have. */
    __lsan_do_leak_check();
#endif
    _exit(status);
}
