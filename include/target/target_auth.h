/* target_auth: the demo accounts and the session tokens of hopper-target's
 * login flow (POST /login, then a token on the protected routes).
 *
 * Accounts: TARGET_AUTH_ACCOUNTS built-in ones, user001 .. user050, whose
 * passwords are pass001 .. pass050 (same number). Nothing else logs in.
 *
 * Tokens are 32 lowercase hex digits, two 64-bit halves:
 *
 *   nonce = SipHash-2-4(key_nonce, serial, account)   random-looking, unique
 *   tag   = SipHash-2-4(key_tag, nonce)               the proof we made it
 *   token = hex(nonce) hex(tag)
 *
 * serial counts logins across every worker process. A token is checked by
 * recomputing its tag, so any worker accepts a token another worker issued
 * without asking anyone: the only thing the workers share is this object,
 * made before the fork in a MAP_SHARED mapping, whose keys are drawn from
 * the kernel (getrandom) once per run. So tokens never survive a restart,
 * and --seed does not make them repeatable.
 *
 * Logout needs the one piece of state a recomputed tag cannot give: which
 * tokens were given back. Revoked nonces go into a fixed, insert-only hash
 * set in the same shared mapping, filled with atomic compare-and-swap, so a
 * token logged out on one worker is refused by all of them at once, with no
 * lock. The set holds TARGET_AUTH_REVOKED_MAX tokens; past that, a logout is
 * still answered and counted but the token stays valid (target_auth_revoke
 * says so). The mapping's pages are only touched as the set fills.
 *
 * Call order: target_auth_new (before any fork), then in any process any
 * number of the other calls, then target_auth_free in the process that made
 * it (a forked worker may just exit: the mapping goes with it). */
#ifndef HOPPER_TARGET_AUTH_H
#define HOPPER_TARGET_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define TARGET_AUTH_ACCOUNTS 50
#define TARGET_AUTH_TOKEN_LEN 32 /* hex digits, no NUL */
#define TARGET_AUTH_REVOKED_MAX 65536

struct target_auth;

/* Maps the shared object and draws its keys. 0 and *out set, or a negative
 * errno (the mapping failed). */
int target_auth_new(struct target_auth **out);
void target_auth_free(struct target_auth *a);

/* The account number (1 .. TARGET_AUTH_ACCOUNTS) whose user name and
 * password these are, or 0. Neither needs a NUL. */
unsigned target_auth_login(const char *user, size_t user_len, const char *password, size_t password_len);

/* The user name of an account number from target_auth_login ("user007"),
 * into buf (at least 8 bytes), NUL-terminated. */
void target_auth_user_name(unsigned account, char *buf, size_t len);

/* A new token for the account, into token (exactly TARGET_AUTH_TOKEN_LEN
 * bytes, no NUL). Never the same twice in a run, whatever the process. */
void target_auth_issue(struct target_auth *a, unsigned account, char *token);

/* Whether the len bytes at token are a token this run issued and nobody has
 * given back. Costs one SipHash and a short probe of the revoked set. */
bool target_auth_valid(const struct target_auth *a, const char *token, size_t len);

/* Gives back a token target_auth_valid accepted: every process refuses it
 * from now on. False (and nothing changed) when the revoked set is full. */
bool target_auth_revoke(struct target_auth *a, const char *token);

#endif
