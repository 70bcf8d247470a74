/* xalloc: allocation that cannot fail.
 *
 * hopper treats running out of memory as fatal: a load generator that limps on
 * with half its users would report numbers nobody can trust. Every allocation in
 * the project goes through these wrappers, which print one line and abort. */
#ifndef HOPPER_XALLOC_H
#define HOPPER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* What to run before the process aborts on a failed allocation: main sets it
 * to give the terminal back while the dashboard is up, so that the message is
 * readable and the shell usable. The one piece of process-wide state here. */
void xalloc_on_fatal(void (*fn)(void *arg), void *arg);

#endif
