/* method: see include/http/method.h. */
#include "http/method.h"

#include <stddef.h>
#include <string.h>

bool http_method_idempotent(const char *method)
{
    static const char *const idempotent[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof idempotent / sizeof idempotent[0]; i++)
        if (strcmp(method, idempotent[i]) == 0)
            return true;
    return false;
}
