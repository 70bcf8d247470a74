/* fdlimit: see include/util/fdlimit.h. */
#include "util/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

uint64_t fdlimit_raise(int *err)
{
    struct rlimit rl;
    int e = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        if (err)
            *err = errno;
        return 1024;
    }
    if (rl.rlim_cur != rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            /* Linux refuses RLIM_INFINITY above fs.nr_open; settle for a large value. */
            e = errno;
            rl.rlim_cur = 1 << 20;
            if (want == RLIM_INFINITY && setrlimit(RLIMIT_NOFILE, &rl) == 0)
                e = 0;
        }
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (err)
        *err = e;
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX / 2 : (uint64_t)rl.rlim_cur;
}
