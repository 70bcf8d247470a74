/* child: how a forked child process ends.
 *
 * A child made by fork() shares the parent's stdio buffers and atexit
 * handlers as they were at the fork. exit() would run those handlers and
 * flush every stream, so anything the parent had buffered (in a stream it
 * did not flush before forking) would be written once more per child. A
 * child therefore ends with _exit(), after flushing the two streams it
 * writes itself: stdout and stderr. Line-buffered files a child writes
 * (hopper's --log-failures) are out with each line already. */
#ifndef HOPPER_CHILD_H
#define HOPPER_CHILD_H

/* Flushes stdout and stderr, runs the leak check in an AddressSanitizer
 * build (which exit() would have run), then _exit(status). */
void child_exit(int status) __attribute__((noreturn));

#endif
