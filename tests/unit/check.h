/* check.h: the tiny test harness every unit test program uses.
 *
 * A program defines test functions with TEST(name), lists them in main with
 * RUN(name), and returns check_done(). Each test prints "ok - prog: name" or
 * "not ok - prog: name" (TAP-like), which tests/run counts into the suite's
 * closing "N passed, N failed, N skipped" line. A failed CHECK prints the file, line and
 * expression, and the test goes on so one run shows every broken expectation. */
#ifndef HOPPER_CHECK_H
#define HOPPER_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_in_test;
static int check_tests_failed;
static int check_tests_passed;
static const char *check_prog = "unit";

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
            check_failed_in_test = 1;                                            \
        }                                                                        \
    } while (0)

#define CHECK_INT(a, b)                                                          \
    do {                                                                         \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);          \
        if (check_a_ != check_b_) {                                              \
            printf("#   %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                   __LINE__, #a, check_a_, #b, check_b_);                        \
            check_failed_in_test = 1;                                            \
        }                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                          \
    do {                                                                         \
        const char *check_a_ = (a), *check_b_ = (b);                             \
        if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_)) {\
            printf("#   %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
                   __LINE__, #a, check_a_ ? check_a_ : "(null)",                 \
                   check_b_ ? check_b_ : "(null)");                              \
            check_failed_in_test = 1;                                            \
        }                                                                        \
    } while (0)

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                                \
    do {                                                                         \
        check_failed_in_test = 0;                                                \
        test_##name();                                                           \
        if (check_failed_in_test) {                                              \
            check_tests_failed++;                                                \
            printf("not ok - %s: %s\n", check_prog, #name);                      \
        } else {                                                                 \
            check_tests_passed++;                                                \
            printf("ok - %s: %s\n", check_prog, #name);                          \
        }                                                                        \
        fflush(stdout);                                                          \
    } while (0)

static inline int check_done(void)
{
    return check_tests_failed ? 1 : 0;
}

#endif
