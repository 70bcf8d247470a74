/* xalloc: see include/util/xalloc.h. */
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*fatal_fn)(void *);
static void *fatal_arg;

void xalloc_on_fatal(void (*fn)(void *arg), void *arg)
{
    fatal_fn = fn;
    fatal_arg = arg;
}

static void *check(void *p, size_t size)
{
    if (p == NULL && size != 0) {
        if (fatal_fn)
            fatal_fn(fatal_arg);
        fprintf(stderr, "hopper: out of memory (%zu bytes)\n", size);
        abort();
    }
    return p;
}

void *xmalloc(size_t size) { return check(malloc(size), size); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n, size), n * size); }
void *xrealloc(void *p, size_t size) { return check(realloc(p, size), size); }

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}
