/* fuzz.h: what every libFuzzer target in tests/fuzz shares.
 *
 * A target defines LLVMFuzzerTestOneInput, hands the bytes to the code under
 * test and then checks what that code promises in its header, beyond "it did
 * not crash". A broken promise is reported with FUZZ_CHECK, which prints the
 * expression and aborts: libFuzzer treats the abort as a crash and saves the
 * input that caused it under build-fuzz/artifacts/ (see tests/fuzz/README.md). */
#ifndef HOPPER_FUZZ_H
#define HOPPER_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "\nfuzz invariant broken: %s (%s:%d)\n", #cond, __FILE__,     \
                    __LINE__);                                                            \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* The input as a C string in its own allocation, so ASan sees any read past
 * its end (an embedded NUL simply ends the string early, as it would for a
 * caller). Free with free(). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Whether s holds a byte that must never reach a request line or header:
 * a space or control byte, DEL, or a byte above ASCII. */
static inline int fuzz_has_wire_unsafe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return 1;
    }
    return 0;
}

#endif
