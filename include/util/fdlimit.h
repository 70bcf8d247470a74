/* fdlimit: the open-file limit of this process.
 *
 * A load test opens a connection per user; the usual soft limit of 1024 would
 * cap them long before the hard limit does. hopper, each of its worker
 * processes and hopper-target raise it the same way. */
#ifndef HOPPER_FDLIMIT_H
#define HOPPER_FDLIMIT_H

#include <stdint.h>

/* Raises the soft RLIMIT_NOFILE to the hard one (to 2^20 where the hard one
 * is unlimited and Linux refuses that). Returns the soft limit now in force
 * (UINT64_MAX / 2 for unlimited; 1024, the usual default, if it cannot be
 * read); *err (may be NULL) is 0, or the errno of a raise that failed. */
uint64_t fdlimit_raise(int *err);

#endif
