/* xalloc: see include/xalloc.h. */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t size)
{
    if (p == NULL && size != 0) {
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
