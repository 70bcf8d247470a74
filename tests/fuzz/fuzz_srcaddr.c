/* fuzz_srcaddr: srcaddr_parse (include/http/srcaddr.h), the --source-addrs list.
 *
 * The bytes are the list as typed. Promises checked: a success holds 1 to
 * SRCADDR_MAX addresses, each an IPv4 or IPv6 address whose text form is
 * NUL-terminated, parses back to the same address and is what inet_ntop
 * writes; a failure says why, starting "--source-addrs:", within any size of
 * err. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "http/srcaddr.h"

static void check_address(const srcaddr_list_t *l, size_t i)
{
    const struct sockaddr_storage *ss = &l->addr[i];
    const char *text = l->text[i];
    FUZZ_CHECK(memchr(text, '\0', sizeof l->text[i]) != NULL && text[0] != '\0');
    FUZZ_CHECK(ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
    if (ss->ss_family == AF_INET) {
        struct in_addr a;
        FUZZ_CHECK(inet_pton(AF_INET, text, &a) == 1);
        FUZZ_CHECK(a.s_addr == ((const struct sockaddr_in *)ss)->sin_addr.s_addr);
    } else {
        struct in6_addr a;
        FUZZ_CHECK(inet_pton(AF_INET6, text, &a) == 1);
        FUZZ_CHECK(memcmp(&a, &((const struct sockaddr_in6 *)ss)->sin6_addr, sizeof a) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the size of the error buffer (1-256 bytes). */
    if (size < 1)
        return 0;
    size_t errlen = (size_t)data[0] + 1;
    char *list = fuzz_cstr(data + 1, size - 1);
    char *err = malloc(errlen);
    srcaddr_list_t *out = malloc(sizeof *out);
    FUZZ_CHECK(err != NULL && out != NULL);
    err[0] = '\0';

    int rc = srcaddr_parse(list, out, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(out->n <= SRCADDR_MAX);
    if (rc == 0) {
        FUZZ_CHECK(out->n >= 1);
        for (size_t i = 0; i < out->n; i++)
            check_address(out, i);
    } else {
        FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
        if (errlen > 16)
            FUZZ_CHECK(strncmp(err, "--source-addrs:", 15) == 0);
    }
    free(out);
    free(err);
    free(list);
    return 0;
}
