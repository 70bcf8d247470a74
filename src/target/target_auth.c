/* target_auth: see include/target/target_auth.h. */
#include "target/target_auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "util/rng.h"

/* Twice the most tokens it may hold, so that probes stay short; a power of
 * two. 8 bytes a slot: 1 MiB of address space, paged in as it fills. */
#define REVOKED_SLOTS (2 * TARGET_AUTH_REVOKED_MAX)

/* All of it lives in one MAP_SHARED mapping, so every forked worker sees the
 * same keys, the same serial and the same revoked set. */
struct target_auth {
    uint64_t key_nonce[2];
    uint64_t key_tag[2];
    uint64_t serial;  /* logins so far, every process; atomic */
    uint64_t revoked; /* tokens in the set; atomic */
    uint64_t slots[REVOKED_SLOTS]; /* revoked nonces (0 is stored as 1); 0 = empty; atomic */
};

/* ---- SipHash-2-4 (Aumasson and Bernstein), for 8- and 16-byte messages ----
 *
 * A keyed hash made for exactly this: short inputs, a 128-bit secret key,
 * output nobody can predict or forge without the key. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

/* The message is words[0..n-1] as little-endian bytes, 8 * n of them. */
static uint64_t siphash24(const uint64_t key[2], const uint64_t *words, size_t n)
{
    uint64_t v[4] = {
        key[0] ^ 0x736f6d6570736575ULL,
        key[1] ^ 0x646f72616e646f6dULL,
        key[0] ^ 0x6c7967656e657261ULL,
        key[1] ^ 0x7465646279746573ULL,
    };
    for (size_t i = 0; i < n; i++) {
        v[3] ^= words[i];
        sip_round(v);
        sip_round(v);
        v[0] ^= words[i];
    }
    uint64_t last = (uint64_t)(8 * n) << 56; /* no partial word: only the length byte */
    v[3] ^= last;
    sip_round(v);
    sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- the shared object ---- */

/* 256 bits from the kernel; should getrandom ever fail (a kernel before 3.17),
 * the clock and the pid, stretched, which is enough for a demo server. */
static void draw_keys(struct target_auth *a)
{
    uint64_t keys[4];
    if (getrandom(keys, sizeof(keys), 0) != (ssize_t)sizeof(keys)) {
        uint64_t x = (uint64_t)time(NULL) ^ uv_hrtime() ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 4; i++)
            keys[i] = rng_splitmix(&x);
    }
    a->key_nonce[0] = keys[0];
    a->key_nonce[1] = keys[1];
    a->key_tag[0] = keys[2];
    a->key_tag[1] = keys[3];
}

int target_auth_new(struct target_auth **out)
{
    /* Anonymous memory is zeroed: an empty set, serial 0. */
    void *p = mmap(NULL, sizeof(struct target_auth), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                   0);
    if (p == MAP_FAILED)
        return -errno;
    struct target_auth *a = p;
    draw_keys(a);
    *out = a;
    return 0;
}

void target_auth_free(struct target_auth *a)
{
    if (a != NULL)
        munmap(a, sizeof(*a));
}

/* ---- accounts ---- */

/* "PREFIXnnn" with nnn from 001 to TARGET_AUTH_ACCOUNTS: nnn, else 0. */
static unsigned numbered(const char *s, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (len != plen + 3 || memcmp(s, prefix, plen) != 0)
        return 0;
    unsigned n = 0;
    for (size_t i = plen; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        n = n * 10 + (unsigned)(s[i] - '0');
    }
    return n <= TARGET_AUTH_ACCOUNTS ? n : 0;
}

unsigned target_auth_login(const char *user, size_t user_len, const char *password, size_t password_len)
{
    unsigned account = numbered(user, user_len, "user");
    if (account == 0 || numbered(password, password_len, "pass") != account)
        return 0;
    return account;
}

void target_auth_user_name(unsigned account, char *buf, size_t len)
{
    snprintf(buf, len, "user%03u", account);
}

/* ---- tokens ---- */

static const char hex_digits[] = "0123456789abcdef";

static void put_hex64(char *out, uint64_t v)
{
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = hex_digits[v & 15];
}

/* 16 lowercase hex digits, nothing else. */
static bool get_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

void target_auth_issue(struct target_auth *a, unsigned account, char *token)
{
    uint64_t serial = __atomic_add_fetch(&a->serial, 1, __ATOMIC_RELAXED);
    uint64_t msg[2] = {serial, account};
    uint64_t nonce = siphash24(a->key_nonce, msg, 2);
    uint64_t tag = siphash24(a->key_tag, &nonce, 1);
    put_hex64(token, nonce);
    put_hex64(token + 16, tag);
}

/* Where a nonce is stored in the set: 0 marks an empty slot. */
static uint64_t slot_key(uint64_t nonce)
{
    return nonce != 0 ? nonce : 1;
}

static bool revoked(const struct target_auth *a, uint64_t nonce)
{
    uint64_t key = slot_key(nonce);
    /* The nonce is a keyed hash already: its low bits are a fine index. */
    for (size_t i = key & (REVOKED_SLOTS - 1);; i = (i + 1) & (REVOKED_SLOTS - 1)) {
        uint64_t v = __atomic_load_n(&a->slots[i], __ATOMIC_ACQUIRE);
        if (v == 0)
            return false;
        if (v == key)
            return true;
    }
}

bool target_auth_valid(const struct target_auth *a, const char *token, size_t len)
{
    uint64_t nonce, tag;
    if (len != TARGET_AUTH_TOKEN_LEN || !get_hex64(token, &nonce) || !get_hex64(token + 16, &tag))
        return false;
    if (siphash24(a->key_tag, &nonce, 1) != tag)
        return false;
    return !revoked(a, nonce);
}

bool target_auth_revoke(struct target_auth *a, const char *token)
{
    uint64_t nonce;
    if (!get_hex64(token, &nonce))
        return false;
    /* Reserve room first: the set never passes half full, so the probe
     * below always finds an empty slot. */
    if (__atomic_add_fetch(&a->revoked, 1, __ATOMIC_RELAXED) > TARGET_AUTH_REVOKED_MAX) {
        __atomic_sub_fetch(&a->revoked, 1, __ATOMIC_RELAXED);
        return false;
    }
    uint64_t key = slot_key(nonce);
    for (size_t i = key & (REVOKED_SLOTS - 1);; i = (i + 1) & (REVOKED_SLOTS - 1)) {
        uint64_t expected = 0;
        if (__atomic_compare_exchange_n(&a->slots[i], &expected, key, false, __ATOMIC_RELEASE,
                                        __ATOMIC_ACQUIRE))
            return true;
        if (expected == key) { /* two logouts of one token raced: one slot is enough */
            __atomic_sub_fetch(&a->revoked, 1, __ATOMIC_RELAXED);
            return true;
        }
    }
}
