/* Unit tests for the dashboard's keys (dash_key in src/view/dash.c), without
 * a terminal: ncurses is never initialised, only its key codes are used. Each
 * key's command, the view keys (scrolling, failures, help) and the typed
 * prompts (u, r) with Enter, Esc, Backspace and bad input. */
#include "check.h"
#include "hopper.h"
#include "view/dash.h"

#include <curses.h>

typedef struct {
    dash_t d;
    term_t term;
    snap_t s;
} fixture_t;

static void fixture_init(fixture_t *fx)
{
    memset(fx, 0, sizeof *fx);
    snap_init(&fx->s);
    fx->s.target_users = 10;
    fx->s.spawn_rate = 5;
    fx->s.elapsed_ms = 1000;
    dash_init(&fx->d, &fx->term, NULL);
}

static dash_cmd_t key(fixture_t *fx, int k)
{
    return dash_key(&fx->d, k, &fx->s);
}

/* Types each character of keys, then returns the command of the last one. */
static dash_cmd_t type(fixture_t *fx, const char *keys)
{
    dash_cmd_t c = {DASH_NONE, 0};
    for (const char *p = keys; *p; p++)
        c = key(fx, (unsigned char)*p);
    return c;
}

#define CHECK_CMD(cmd, k, v)                       \
    do {                                           \
        dash_cmd_t c_ = (cmd);                     \
        CHECK_INT(c_.kind, k);                     \
        CHECK(c_.value == (double)(v));            \
    } while (0)

TEST(user_keys)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_CMD(key(&fx, 'w'), DASH_SET_USERS, 11);
    CHECK_STR(fx.d.flash, "target users -> 11");
    CHECK_CMD(key(&fx, 'W'), DASH_SET_USERS, 20);
    CHECK_CMD(key(&fx, 's'), DASH_SET_USERS, 9);
    CHECK_CMD(key(&fx, 'S'), DASH_SET_USERS, 0);
    fx.s.target_users = 5;
    CHECK_CMD(key(&fx, 'S'), DASH_SET_USERS, 0);        /* never below 0 */
    fx.s.target_users = HOPPER_MAX_USERS;
    CHECK_CMD(key(&fx, 'w'), DASH_SET_USERS, HOPPER_MAX_USERS);  /* nor above the limit */
    /* Up and Down change the users while the table fits (no scrolling). */
    fx.s.target_users = 10;
    CHECK_CMD(key(&fx, KEY_UP), DASH_SET_USERS, 11);
    CHECK_CMD(key(&fx, KEY_DOWN), DASH_SET_USERS, 9);
}

TEST(rate_keys)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_CMD(key(&fx, '+'), DASH_SET_RATE, 10);
    CHECK_STR(fx.d.flash, "spawn rate -> 10/s");
    CHECK_CMD(key(&fx, '='), DASH_SET_RATE, 10);
    CHECK_CMD(key(&fx, '-'), DASH_SET_RATE, 2);
    CHECK_CMD(key(&fx, '_'), DASH_SET_RATE, 2);
    fx.s.spawn_rate = 7;                                 /* off the 1-2-5 series */
    CHECK_CMD(key(&fx, '+'), DASH_SET_RATE, 10);
    CHECK_CMD(key(&fx, '-'), DASH_SET_RATE, 5);
}

TEST(test_keys)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_CMD(key(&fx, 'p'), DASH_PAUSE, 1);
    CHECK_STR(fx.d.flash, "ramp paused");
    fx.s.paused = true;
    CHECK_CMD(key(&fx, 'P'), DASH_PAUSE, 0);
    CHECK_STR(fx.d.flash, "ramp resumed");
    CHECK_CMD(key(&fx, 'z'), DASH_RESET, 0);
    CHECK_CMD(key(&fx, 'Z'), DASH_RESET, 0);
    CHECK_STR(fx.d.flash, "statistics reset");
    CHECK_CMD(key(&fx, 'q'), DASH_STOP, 0);
    CHECK_CMD(key(&fx, 'Q'), DASH_STOP, 0);
    CHECK_CMD(key(&fx, 3), DASH_STOP, 0);               /* Ctrl-C as a key */
    CHECK_STR(fx.d.flash, "stopping");
    CHECK_CMD(key(&fx, 'x'), DASH_NONE, 0);             /* not a key of ours */
    CHECK_CMD(key(&fx, ERR), DASH_NONE, 0);
}

TEST(view_keys)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_CMD(key(&fx, 'f'), DASH_NONE, 0);
    CHECK(fx.d.show_failures && fx.d.failures_chosen);
    CHECK_CMD(key(&fx, 'F'), DASH_NONE, 0);
    CHECK(!fx.d.show_failures);
    /* Help: ? h H open it; any key then closes it and does nothing else. */
    static const int help_keys[] = {'?', 'h', 'H'};
    for (size_t i = 0; i < 3; i++) {
        CHECK_CMD(key(&fx, help_keys[i]), DASH_NONE, 0);
        CHECK(fx.d.help);
        CHECK_CMD(key(&fx, 'q'), DASH_NONE, 0);
        CHECK(!fx.d.help);
    }
}

TEST(scrolling)
{
    fixture_t fx;
    fixture_init(&fx);
    snap_entry_t entries[10] = {{0}};
    fx.s.entries = entries;
    fx.s.n_entries = 10;
    fx.d.layout.entry_rows = 4;                          /* as the last draw left it */
    /* The table scrolls now: Up and Down move it and change nothing else. */
    CHECK_CMD(key(&fx, KEY_DOWN), DASH_NONE, 0);
    CHECK_INT(fx.d.scroll, 1);
    CHECK_CMD(key(&fx, KEY_UP), DASH_NONE, 0);
    CHECK_INT(fx.d.scroll, 0);
    CHECK_CMD(key(&fx, KEY_UP), DASH_NONE, 0);
    CHECK_INT(fx.d.scroll, 0);
    key(&fx, KEY_NPAGE);
    CHECK_INT(fx.d.scroll, 4);
    key(&fx, KEY_PPAGE);
    CHECK_INT(fx.d.scroll, 0);
    key(&fx, KEY_END);
    CHECK_INT(fx.d.scroll, 10);                          /* clamped at the next draw */
    key(&fx, KEY_HOME);
    CHECK_INT(fx.d.scroll, 0);
    for (int i = 0; i < 10; i++)
        key(&fx, KEY_DOWN);
    CHECK_INT(fx.d.scroll, 6);                           /* the last page, not past it */
}

TEST(users_prompt)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_CMD(key(&fx, 'u'), DASH_NONE, 0);
    CHECK_INT(fx.d.prompt, 'u');
    CHECK_CMD(type(&fx, "30"), DASH_NONE, 0);
    CHECK_STR(fx.d.input, "30");
    CHECK_CMD(key(&fx, '\n'), DASH_SET_USERS, 30);
    CHECK_INT(fx.d.prompt, 0);
    /* Keys of the test are text while the prompt is open; a '.' is not. */
    key(&fx, 'u');
    CHECK_CMD(type(&fx, "q1.5"), DASH_NONE, 0);
    CHECK_STR(fx.d.input, "15");
    CHECK_CMD(key(&fx, KEY_ENTER), DASH_SET_USERS, 15);
    /* Backspace (each of its codes) takes back a digit, and is harmless when empty. */
    key(&fx, 'u');
    type(&fx, "123");
    key(&fx, KEY_BACKSPACE);
    key(&fx, 127);
    CHECK_STR(fx.d.input, "1");
    key(&fx, 8);
    key(&fx, 8);
    CHECK_STR(fx.d.input, "");
    CHECK_CMD(type(&fx, "7\r"), DASH_SET_USERS, 7);
    /* Esc cancels: nothing is sent, and the next key is a key again. */
    key(&fx, 'u');
    type(&fx, "99");
    CHECK_CMD(key(&fx, 27), DASH_NONE, 0);
    CHECK_INT(fx.d.prompt, 0);
    CHECK_CMD(key(&fx, 'w'), DASH_SET_USERS, 11);
    /* Enter on nothing: not a number. */
    key(&fx, 'u');
    CHECK_CMD(key(&fx, '\n'), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "not a number: nothing changed");
    CHECK_INT(fx.d.prompt, 0);
    /* Too many users: the limit. */
    key(&fx, 'u');
    CHECK_CMD(type(&fx, "99999999999\n"), DASH_SET_USERS, HOPPER_MAX_USERS);
}

TEST(rate_prompt)
{
    fixture_t fx;
    fixture_init(&fx);
    key(&fx, 'r');
    CHECK_INT(fx.d.prompt, 'r');
    CHECK_CMD(type(&fx, "2.5\n"), DASH_SET_RATE, 2.5);
    CHECK_STR(fx.d.flash, "spawn rate -> 2.5/s");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1.2.3\n"), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "not a number: nothing changed");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "0\n"), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "the spawn rate must be above 0 and at most 1000000");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1000001\n"), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "the spawn rate must be above 0 and at most 1000000");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1000000\n"), DASH_SET_RATE, 1000000);
    /* The input holds at most 23 characters; more are dropped. */
    key(&fx, 'r');
    type(&fx, "111111111111111111111111111111");
    CHECK_INT(fx.d.input_len, sizeof fx.d.input - 1);
    key(&fx, 27);
}

int main(void)
{
    check_prog = "dash_key";
    RUN(user_keys);
    RUN(rate_keys);
    RUN(test_keys);
    RUN(view_keys);
    RUN(scrolling);
    RUN(users_prompt);
    RUN(rate_prompt);
    return check_done();
}
