/* Unit tests for the dashboard's keys (dash_key in src/view/dash.c), without
 * a terminal: ncurses is never initialised, only its key codes are used. Each
 * key's command, the view keys (row selection, the views and Esc, the
 * log's scrolling, zoom, failures, help), stopping after a y/n question and
 * a viewer's detach, and the typed
 * prompts (u, r) with Enter, Esc, Backspace and bad input; in the open model
 * the arrival rate's 1-2-5 steps and its r prompt, and the user keys that
 * only explain; with stages, the note that a key takes over until the next
 * stage. */
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
    /* Up and Down select rows: they never change the users. */
    fx.s.target_users = 10;
    CHECK_CMD(key(&fx, KEY_UP), DASH_NONE, 0);
    CHECK_CMD(key(&fx, KEY_DOWN), DASH_NONE, 0);
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

TEST(selection)
{
    fixture_t fx;
    fixture_init(&fx);
    snap_entry_t entries[10] = {{0}};
    fx.s.entries = entries;
    fx.s.n_entries = 10;
    fx.d.layout.entry_rows = 4;                          /* as the last draw left it */
    /* Aggregated (row 10) is selected until a key moves the selection. */
    CHECK_INT(dash_selected(&fx.d, &fx.s), 10);
    CHECK_CMD(key(&fx, KEY_DOWN), DASH_NONE, 0);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 10);          /* nothing below it */
    CHECK_CMD(key(&fx, KEY_UP), DASH_NONE, 0);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 9);
    key(&fx, KEY_HOME);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 0);
    key(&fx, KEY_UP);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 0);           /* nothing above the first */
    key(&fx, KEY_DOWN);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 1);
    key(&fx, KEY_NPAGE);                                 /* a page: the rows shown */
    CHECK_INT(dash_selected(&fx.d, &fx.s), 5);
    key(&fx, KEY_PPAGE);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 1);
    key(&fx, KEY_END);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 10);
    for (int i = 0; i < 20; i++)
        key(&fx, KEY_UP);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 0);
    /* Fewer rows in a later snapshot: the selection stays within them. */
    fx.s.n_entries = 0;
    key(&fx, KEY_HOME);
    fx.d.sel = 5;
    CHECK_INT(dash_selected(&fx.d, &fx.s), 0);
}

TEST(views)
{
    fixture_t fx;
    fixture_init(&fx);
    CHECK_INT(fx.d.view, DASH_VIEW_MAIN);
    CHECK_CMD(key(&fx, '\n'), DASH_NONE, 0);
    CHECK_INT(fx.d.view, DASH_VIEW_ENDPOINT);
    CHECK_CMD(key(&fx, 27), DASH_NONE, 0);               /* Esc: back */
    CHECK_INT(fx.d.view, DASH_VIEW_MAIN);
    key(&fx, KEY_ENTER);
    CHECK_INT(fx.d.view, DASH_VIEW_ENDPOINT);
    static const struct { int key; dash_view_t view; } v[] = {
        {'d', DASH_VIEW_DIST}, {'c', DASH_VIEW_CODES}, {'l', DASH_VIEW_LOG}, {'\r', DASH_VIEW_ENDPOINT}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK_CMD(key(&fx, v[i].key), DASH_NONE, 0);
        CHECK_INT(fx.d.view, v[i].view);
    }
    key(&fx, 27);
    CHECK_INT(fx.d.view, DASH_VIEW_MAIN);
    key(&fx, 27);
    CHECK_INT(fx.d.view, DASH_VIEW_MAIN);                /* Esc on the main screen: nothing */
    /* The test's keys work in every view. */
    key(&fx, 'c');
    CHECK_CMD(key(&fx, 'W'), DASH_SET_USERS, 20);
    CHECK_CMD(key(&fx, 'p'), DASH_PAUSE, 1);
    CHECK_INT(fx.d.view, DASH_VIEW_CODES);
    /* The log scrolls with Up/Down/PgUp/PgDn; the selection stays. */
    key(&fx, 'l');
    fx.d.log_scroll_max = 100;
    key(&fx, KEY_UP);
    key(&fx, KEY_UP);
    CHECK_INT(fx.d.log_scroll, 2);
    key(&fx, KEY_DOWN);
    CHECK_INT(fx.d.log_scroll, 1);
    key(&fx, KEY_HOME);
    CHECK_INT(fx.d.log_scroll, 100);
    key(&fx, KEY_END);
    CHECK_INT(fx.d.log_scroll, 0);
    key(&fx, KEY_DOWN);
    CHECK_INT(fx.d.log_scroll, 0);
    CHECK(!fx.d.sel_set);
    /* t: whole run -> last 10 minutes -> last minute -> whole run. */
    CHECK_INT(fx.d.zoom, CHART_ZOOM_RUN);
    key(&fx, 't');
    CHECK_INT(fx.d.zoom, CHART_ZOOM_10M);
    CHECK_STR(fx.d.flash, "charts: last 10m");
    key(&fx, 't');
    CHECK_INT(fx.d.zoom, CHART_ZOOM_1M);
    key(&fx, 't');
    CHECK_INT(fx.d.zoom, CHART_ZOOM_RUN);
}

TEST(stop_and_detach)
{
    fixture_t fx;
    fixture_init(&fx);
    /* X asks first; only y stops. */
    CHECK_CMD(key(&fx, 'X'), DASH_NONE, 0);
    CHECK(fx.d.confirm_stop);
    CHECK_CMD(key(&fx, 'n'), DASH_NONE, 0);
    CHECK(!fx.d.confirm_stop);
    CHECK_STR(fx.d.flash, "the test goes on");
    key(&fx, 'X');
    CHECK_CMD(key(&fx, 'q'), DASH_NONE, 0);              /* any other key: no */
    key(&fx, 'X');
    CHECK_CMD(key(&fx, 'y'), DASH_STOP, 0);
    key(&fx, 'X');
    CHECK_CMD(key(&fx, 'Y'), DASH_STOP, 0);
    /* The local dashboard: q stops at once and never detaches. */
    CHECK_CMD(key(&fx, 'q'), DASH_STOP, 0);
    /* A viewer: q (and Ctrl-C as a key) detach; X, confirmed, stops. */
    fx.d.attached = true;
    CHECK_CMD(key(&fx, 'q'), DASH_DETACH, 0);
    CHECK_CMD(key(&fx, 3), DASH_DETACH, 0);
    key(&fx, 'X');
    CHECK_CMD(key(&fx, 'y'), DASH_STOP, 0);
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
    CHECK_STR(fx.d.flash, "the spawn rate must be from 0.001 to 1000000");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "0.0001\n"), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "the spawn rate must be from 0.001 to 1000000");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1000001\n"), DASH_NONE, 0);
    CHECK_STR(fx.d.flash, "the spawn rate must be from 0.001 to 1000000");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1000000\n"), DASH_SET_RATE, 1000000);
    /* The input holds at most 23 characters; more are dropped. */
    key(&fx, 'r');
    type(&fx, "111111111111111111111111111111");
    CHECK_INT(fx.d.input_len, sizeof fx.d.input - 1);
    key(&fx, 27);
}

/* The open model: a pool of up to 200 users, 50 arrivals per second. */
static void fixture_open(fixture_t *fx)
{
    fixture_init(fx);
    fx->s.open = true;
    fx->s.arrival_rate = 50;
    fx->s.max_users = 200;
    fx->s.pool_users = 20;
}

TEST(arrival_steps_are_1_2_5)
{
    /* Up from 0: the series 1, 2, 5, 10, 20, 50, ... */
    static const double up[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    double r = 0;
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
        r = dash_arrival_step(r, +1, 1e6);
        CHECK(r == up[i]);
    }
    /* And down again to 0, where it stays. */
    for (size_t i = sizeof up / sizeof up[0] - 1; i > 0; i--) {
        r = dash_arrival_step(r, -1, 1e6);
        CHECK(r == up[i - 1]);
    }
    CHECK(dash_arrival_step(1, -1, 1e6) == 0);
    CHECK(dash_arrival_step(0, -1, 1e6) == 0);
    /* Between steps: the next step that way. */
    CHECK(dash_arrival_step(7, +1, 1e6) == 10);
    CHECK(dash_arrival_step(7, -1, 1e6) == 5);
    CHECK(dash_arrival_step(300, +1, 1e6) == 500);
    CHECK(dash_arrival_step(300, -1, 1e6) == 200);
    CHECK(dash_arrival_step(0.5, +1, 1e6) == 1);
    CHECK(dash_arrival_step(0.5, -1, 1e6) == 0);
    CHECK(dash_arrival_step(1.5, -1, 1e6) == 1);
    /* The limit holds, from below and from above it. */
    CHECK(dash_arrival_step(1e6, +1, 1e6) == 1e6);
    CHECK(dash_arrival_step(600000, +1, 1e6) == 1e6);
    CHECK(dash_arrival_step(-3, +1, 1e6) == 1);   /* a nonsense rate starts from 0 */
}

TEST(open_rate_keys)
{
    fixture_t fx;
    fixture_open(&fx);
    CHECK_CMD(key(&fx, '+'), DASH_SET_ARRIVAL_RATE, 100);
    CHECK_STR(fx.d.flash, "arrival rate -> 100/s");
    CHECK_CMD(key(&fx, '='), DASH_SET_ARRIVAL_RATE, 100);
    CHECK_CMD(key(&fx, '-'), DASH_SET_ARRIVAL_RATE, 20);
    CHECK_CMD(key(&fx, '_'), DASH_SET_ARRIVAL_RATE, 20);
    fx.s.arrival_rate = 0;
    CHECK_CMD(key(&fx, '-'), DASH_SET_ARRIVAL_RATE, 0);
    CHECK_STR(fx.d.flash, "arrival rate -> 0/s");
    /* A typed rate comes back as plan/stages.h writes it: the same text. */
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "0.1/h\n"), DASH_SET_ARRIVAL_RATE, 0.1 / 3600);
    CHECK_STR(fx.d.flash, "arrival rate -> 0.1/h");
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "20/m\n"), DASH_SET_ARRIVAL_RATE, 20.0 / 60);
    CHECK_STR(fx.d.flash, "arrival rate -> 20/m");
    fx.s.arrival_rate = 0;
    CHECK_CMD(key(&fx, '+'), DASH_SET_ARRIVAL_RATE, 1);
    fx.s.arrival_rate = 2.5;
    CHECK_CMD(key(&fx, '+'), DASH_SET_ARRIVAL_RATE, 5);
    /* The spawn rate is not what + and - change in the open model. */
    fx.s.spawn_rate = 5;
    fx.s.arrival_rate = 7;
    CHECK_CMD(key(&fx, '+'), DASH_SET_ARRIVAL_RATE, 10);
    /* With stages ahead, the key holds the rate until the next one. */
    snap_stage_t stages[3] = {{1000, 0, 10, true}, {1000, 0, 10, false}, {1000, 0, 0, false}};
    fx.s.stages = stages;
    fx.s.n_stages = 3;
    fx.s.stage = 1;
    CHECK_CMD(key(&fx, '+'), DASH_SET_ARRIVAL_RATE, 10);
    CHECK_STR(fx.d.flash, "arrival rate -> 10/s (manual until the next stage)");
    fx.s.stage = 2;                                     /* the last stage: no next one */
    CHECK_CMD(key(&fx, '-'), DASH_SET_ARRIVAL_RATE, 5);
    CHECK_STR(fx.d.flash, "arrival rate -> 5/s");
}

TEST(open_rate_prompt)
{
    fixture_t fx;
    fixture_open(&fx);
    CHECK_CMD(key(&fx, 'r'), DASH_NONE, 0);
    CHECK_INT(fx.d.prompt, 'a');
    CHECK_CMD(type(&fx, "300\n"), DASH_SET_ARRIVAL_RATE, 300);
    CHECK_STR(fx.d.flash, "arrival rate -> 300/s");
    CHECK_INT(fx.d.prompt, 0);
    static const struct { const char *typed; double rate; } good[] = {
        {"300/s\n", 300}, {" 2.5/s \n", 2.5}, {"90/m\n", 1.5}, {"7200/h\r", 2},
        {"0\n", 0}, {"0/s\n", 0}, {"0.0/m\n", 0}, {"0.5\n", 0.5}, {"1000000\n", 1e6},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        key(&fx, 'r');
        dash_cmd_t c = type(&fx, good[i].typed);
        if (c.kind != DASH_SET_ARRIVAL_RATE || c.value != good[i].rate) {
            printf("#   typed '%s': kind %d value %g\n", good[i].typed, c.kind, c.value);
            CHECK(0);
        }
    }
    /* Garbage is refused whole, with the plan's reason on the key bar, never
     * half read. */
    static const char *const bad[] = {
        "3x0\n", "\n", "/s\n", "300/\n", "300/x\n", "300 s\n", "inf\n", "nan\n",
        "1.2.3\n", "q\n", "30/s/s\n", "0x10\n", "300s\n", "-5\n", "0.0.0\n", "00..\n", "0/x\n",
        "1e3\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        key(&fx, 'r');
        dash_cmd_t c = type(&fx, bad[i]);
        size_t fl = strlen(fx.d.flash), tail = strlen(": nothing changed");
        if (c.kind != DASH_NONE || fl <= tail || strcmp(fx.d.flash + fl - tail, ": nothing changed")) {
            printf("#   typed '%s': kind %d, flash '%s'\n", bad[i], c.kind, fx.d.flash);
            CHECK(0);
        }
        CHECK_INT(fx.d.prompt, 0);
    }
    /* Above the limit (hopper.h's, as for --arrival-rate). */
    key(&fx, 'r');
    CHECK_CMD(type(&fx, "1000001\n"), DASH_NONE, 0);
    CHECK(strstr(fx.d.flash, "above the limit of " HOPPER_STR(HOPPER_MAX_ARRIVAL_RATE_N)) != NULL);
    /* Esc cancels; Backspace takes back a character. */
    key(&fx, 'r');
    type(&fx, "12x");
    key(&fx, KEY_BACKSPACE);
    CHECK_STR(fx.d.input, "12");
    CHECK_CMD(key(&fx, '\n'), DASH_SET_ARRIVAL_RATE, 12);
    key(&fx, 'r');
    type(&fx, "99");
    CHECK_CMD(key(&fx, 27), DASH_NONE, 0);
    CHECK_INT(fx.d.prompt, 0);
    /* The parser alone. */
    double v = -1;
    char why[200] = "";
    CHECK_INT(dash_parse_rate("20/s", &v, why, sizeof why), 0);
    CHECK(v == 20);
    CHECK_INT(dash_parse_rate("", &v, why, sizeof why), -1);
    CHECK(why[0] != '\0');
    CHECK_INT(dash_parse_rate("+5", &v, why, sizeof why), -1);
    CHECK_INT(dash_parse_rate("0000000000000000000000000000000000000000", &v, why, sizeof why), -1);
}

TEST(open_user_keys_explain)
{
    fixture_t fx;
    fixture_open(&fx);
    static const int keys[] = {'w', 'W', 's', 'S', 'u'};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        fx.d.flash[0] = '\0';
        CHECK_CMD(key(&fx, keys[i]), DASH_NONE, 0);
        CHECK_STR(fx.d.flash, "open model: users come from the pool (max-users 200); "
                              "+/- set the arrival rate");
        CHECK_INT(fx.d.prompt, 0);                      /* u opens no prompt */
    }
    /* The other keys are the same in both models. */
    CHECK_CMD(key(&fx, 'p'), DASH_PAUSE, 1);
    CHECK_CMD(key(&fx, 'z'), DASH_RESET, 0);
    CHECK_CMD(key(&fx, 'q'), DASH_STOP, 0);
    /* Up and Down select rows, as in the closed model. */
    snap_entry_t entries[10] = {{0}};
    fx.s.entries = entries;
    fx.s.n_entries = 10;
    fx.d.layout.entry_rows = 4;
    CHECK_CMD(key(&fx, KEY_UP), DASH_NONE, 0);
    CHECK_INT(dash_selected(&fx.d, &fx.s), 9);
}

TEST(closed_keys_stay_with_open_fields_set)
{
    /* A closed run never sends an arrival rate, whatever the snapshot holds. */
    fixture_t fx;
    fixture_init(&fx);
    fx.s.arrival_rate = 50;
    fx.s.max_users = 200;
    CHECK_CMD(key(&fx, '+'), DASH_SET_RATE, 10);
    CHECK_CMD(key(&fx, 'w'), DASH_SET_USERS, 11);
    key(&fx, 'r');
    CHECK_INT(fx.d.prompt, 'r');
    type(&fx, "2/s");                                   /* '/' and 's' are not digits here */
    CHECK_STR(fx.d.input, "2");
    CHECK_CMD(key(&fx, '\n'), DASH_SET_RATE, 2);
    /* Stages in users: a key takes over until the next stage. */
    snap_stage_t stages[2] = {{1000, 0, 10, false}, {1000, 0, 0, false}};
    fx.s.stages = stages;
    fx.s.n_stages = 2;
    fx.s.stage = 0;
    CHECK_CMD(key(&fx, 'W'), DASH_SET_USERS, 20);
    CHECK_STR(fx.d.flash, "target users -> 20 (manual until the next stage)");
}

int main(void)
{
    check_prog = "dash_key";
    RUN(user_keys);
    RUN(rate_keys);
    RUN(test_keys);
    RUN(view_keys);
    RUN(selection);
    RUN(views);
    RUN(stop_and_detach);
    RUN(users_prompt);
    RUN(rate_prompt);
    RUN(arrival_steps_are_1_2_5);
    RUN(open_rate_keys);
    RUN(open_rate_prompt);
    RUN(open_user_keys_explain);
    RUN(closed_keys_stay_with_open_fields_set);
    return check_done();
}
