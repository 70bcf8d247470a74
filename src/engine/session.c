/* session: see include/engine/session.h.
 *
 * Costs: a static step touches nothing here. A dynamic one renders its
 * templates (copies and slot reads) into the runner's scratch, and percent-
 * encodes the target. A step that reads its response takes a pooled buffer
 * and copies the body (and headers) into it as they arrive; the JSON is
 * parsed once, at the end, only when an extract or expect-json needs it. */
#include "engine/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "util/url.h"
#include "util/xalloc.h"

void scratch_init(scratch_t *s, const plan_t *plan, const char *host)
{
    memset(s, 0, sizeof *s);
    s->plan = plan;
    s->seq = plan->seq;
    /* The host's own path, which a target's path is appended to: the same
     * join url_resolve does for a static target. */
    char *root = host ? url_resolve(host, "/") : NULL;
    const char *path = NULL;
    if (root) {
        const char *auth = strstr(root, "://");
        path = auth ? strchr(auth + 3, '/') : NULL;
    }
    size_t n = path ? strlen(path) : 0;
    while (n > 0 && path[n - 1] == '/')
        n--;
    s->base_path = xstrndup(path ? path : "", n);
    s->base_path_len = n;
    free(root);
}

void scratch_free(scratch_t *s)
{
    tbuf_free(&s->target);
    tbuf_free(&s->headers);
    tbuf_free(&s->body);
    tbuf_free(&s->value);
    free(s->enc);
    free(s->scratch);
    free(s->base_path);
    while (s->free_keeps) {
        keep_t *k = s->free_keeps;
        s->free_keeps = k->next_free;
        free(k->body);
        free(k->headers);
        free(k);
    }
    memset(s, 0, sizeof *s);
}

/* ---- users ------------------------------------------------------------------ */

static int draw_rows(session_t *u, const plan_t *plan, rng_t *rng, bool per_iteration_only)
{
    for (size_t d = 0; d < plan->n_data; d++) {
        data_source_t *src = &plan->data[d];
        if (per_iteration_only && src->per != DATA_PER_ITERATION)
            continue;
        int64_t row = data_next(src, rng);
        if (row < 0)
            return -1;
        u->rows[d] = row;
    }
    return 0;
}

int session_init(session_t *u, const plan_t *plan, uint64_t user_id, rng_t *rng)
{
    memset(u, 0, sizeof *u);
    u->user_id = user_id;
    if (plan->n_data) {
        u->rows = xcalloc(plan->n_data, sizeof *u->rows);
        if (draw_rows(u, plan, rng, false) != 0) {
            free(u->rows);
            u->rows = NULL;
            return -1;
        }
    }
    if (plan->n_user_vars)
        u->vars = xcalloc(plan->n_user_vars, sizeof *u->vars);
    return 0;
}

void session_free(session_t *u, scratch_t *s)
{
    session_end(u, s);
    const plan_t *plan = s->plan;
    for (size_t i = 0; u->vars && i < plan->n_user_vars; i++)
        free(u->vars[i].p);
    free(u->vars);
    free(u->rows);
    memset(u, 0, sizeof *u);
}

int session_next_iteration(session_t *u, const plan_t *plan, rng_t *rng)
{
    /* The first iteration uses the rows drawn when the user started (its
     * on-start saw them too). */
    if (u->iteration++ > 0 && plan->n_data && draw_rows(u, plan, rng, true) != 0)
        return -1;
    return 0;
}

/* ---- rendering ---------------------------------------------------------------- */

static const char *cell(const void *arg, size_t source, size_t column, size_t *len)
{
    const session_t *u = ((const void *const *)arg)[0];
    const plan_t *plan = ((const void *const *)arg)[1];
    return data_cell(&plan->data[source], (size_t)u->rows[source], column, len);
}

/* Appends "Name: " and the rendered value of header h, checked: a value with
 * a line break would end the header block early. 0, 1 when the header is
 * left out (a plan header with a variable not set), -1 on a failure. */
static int render_header(scratch_t *s, const char *h, const tmpl_t *t, const tmpl_ctx_t *ctx,
                         bool optional, char *why, size_t whylen)
{
    size_t name_len = strcspn(h, ":");
    size_t mark = s->headers.len;
    tbuf_add(&s->headers, h, name_len + 2);
    const char *unset = NULL;
    if (tmpl_render(t, ctx, &s->headers, &unset) != 0) {
        s->headers.len = mark;
        if (optional)
            return 1;
        snprintf(why, whylen, "not sent: {{%s}} is not set", unset);
        return -1;
    }
    for (size_t i = mark + name_len + 2; i < s->headers.len; i++) {
        unsigned char c = (unsigned char)s->headers.p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            snprintf(why, whylen, "not sent: header %.*s would carry a control character "
                     "(\\x%02x)", (int)name_len, h, c);
            return -1;
        }
    }
    tbuf_add(&s->headers, "\r\n", 2);
    return 0;
}

int session_render(session_t *u, scratch_t *s, const plan_step_t *step, uint64_t now_ms,
                   rng_t *rng, http_fill_t *fill, char *why, size_t whylen)
{
    const plan_t *plan = s->plan;
    const void *cell_arg[2] = {u, plan};
    tmpl_ctx_t ctx = {
        .vars = u->vars,
        .cell = cell,
        .cell_arg = cell_arg,
        .user_id = u->user_id,
        .iteration = u->iteration,
        .seq = s->seq,
        .seq_rank = plan->seq_rank,
        .seq_ranks = plan->seq_ranks,
        .now_ms = now_ms,
        .rng = rng,
    };
    memset(fill, 0, sizeof *fill);
    const char *unset = NULL;

    if (step->target_t.dynamic) {
        s->target.len = 0;
        if (tmpl_render(&step->target_t, &ctx, &s->target, &unset) != 0) {
            snprintf(why, whylen, "not sent: {{%s}} is not set", unset);
            return -1;
        }
        /* An absolute target's origin is written out (the hopperfile checks
         * it): the path starts at the first '/' after "scheme://host". */
        const char *t = s->target.p;
        size_t n = s->target.len, from = 0, base = s->base_path_len;
        if (n > 0 && t[0] != '/') {
            const char *auth = memmem(t, n, "://", 3);
            const char *slash = auth ? memchr(auth + 3, '/', n - (size_t)(auth + 3 - t)) : NULL;
            from = slash ? (size_t)(slash - t) : n;
            base = 0;
        }
        /* The template's own fragment was cut when the plan was read: a '#'
         * here came from a value, and is sent as one of its characters. */
        size_t len = n - from;
        size_t need = base + 3 * len + 2;
        if (need > s->enc_cap) {
            s->enc_cap = need * 2;
            s->enc = xrealloc(s->enc, s->enc_cap);
        }
        memcpy(s->enc, s->base_path, base);
        size_t o = base + url_encode_path_to(t + from, len, s->enc + base);
        size_t hashes = 0;
        for (size_t i = base; i < o; i++)
            hashes += s->enc[i] == '#';
        if (hashes) {
            /* Each '#' (one byte of the 3 budgeted) becomes %23, from the end. */
            size_t w = o + 2 * hashes;
            for (size_t i = o; i-- > base;) {
                if (s->enc[i] == '#') {
                    s->enc[--w] = '3';
                    s->enc[--w] = '2';
                    s->enc[--w] = '%';
                } else {
                    s->enc[--w] = s->enc[i];
                }
            }
            o += 2 * hashes;
        }
        if (o == 0 || s->enc[0] != '/') {
            memmove(s->enc + 1, s->enc, o);
            s->enc[0] = '/';
            o++;
        }
        fill->target = s->enc;
        fill->target_len = o;
    }

    s->headers.len = 0;
    for (size_t i = 0; plan->header_t && i < plan->n_headers; i++)
        if (plan->header_t[i].dynamic &&
            render_header(s, plan->headers[i], &plan->header_t[i], &ctx, true, why, whylen) < 0)
            return -1;
    for (size_t i = 0; step->header_t && i < step->n_headers; i++)
        if (step->header_t[i].dynamic &&
            render_header(s, step->headers[i], &step->header_t[i], &ctx, false, why, whylen) < 0)
            return -1;
    fill->headers = s->headers.p;
    fill->headers_len = s->headers.len;

    if (step->body && step->body_t.dynamic) {
        s->body.len = 0;
        if (tmpl_render(&step->body_t, &ctx, &s->body, &unset) != 0) {
            snprintf(why, whylen, "not sent: {{%s}} is not set", unset);
            return -1;
        }
        fill->body = s->body.p ? s->body.p : "";
        fill->body_len = s->body.len;
        fill->has_body = true;
    }
    return 0;
}

/* ---- responses ---------------------------------------------------------------- */

void session_begin(session_t *u, scratch_t *s, const plan_step_t *step)
{
    if (!step->keep_body && !step->keep_headers)
        return;
    keep_t *k = s->free_keeps;
    if (k)
        s->free_keeps = k->next_free;
    else
        k = xcalloc(1, sizeof *k);
    k->body_len = k->headers_len = 0;
    k->body_over = false;
    k->next_free = NULL;
    u->keep = k;
}

static void keep_add(char **p, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n + 1)
            c *= 2;
        *p = xrealloc(*p, c);
        *cap = c;
    }
    memcpy(*p + *len, data, n);
    *len += n;
    (*p)[*len] = '\0';
}

void session_body(session_t *u, const char *data, size_t n)
{
    keep_t *k = u->keep;
    if (!k || k->body_over)
        return;
    if (k->body_len + n > HOPPER_MAX_KEPT_BODY) {
        k->body_over = true;
        return;
    }
    keep_add(&k->body, &k->body_len, &k->body_cap, data, n);
}

void session_header(session_t *u, const char *name, size_t name_len, const char *value,
                    size_t value_len)
{
    keep_t *k = u->keep;
    if (!k)
        return;
    if (name == NULL) {
        /* A new response (after a redirect): its headers only. */
        k->headers_len = 0;
        return;
    }
    if (k->headers_len + name_len + value_len + 4 > HOPPER_MAX_KEPT_HEADERS)
        return;
    keep_add(&k->headers, &k->headers_len, &k->headers_cap, name, name_len);
    keep_add(&k->headers, &k->headers_len, &k->headers_cap, ": ", 2);
    keep_add(&k->headers, &k->headers_len, &k->headers_cap, value, value_len);
    keep_add(&k->headers, &k->headers_len, &k->headers_cap, "\r\n", 2);
}

void session_end(session_t *u, scratch_t *s)
{
    keep_t *k = u->keep;
    if (!k)
        return;
    u->keep = NULL;
    /* A buffer grown by a very large body is not kept for the next one. */
    if (k->body_cap > 1024 * 1024) {
        free(k->body);
        k->body = NULL;
        k->body_cap = 0;
    }
    k->next_free = s->free_keeps;
    s->free_keeps = k;
}

static void set_var(tvar_t *v, const char *val, size_t len)
{
    if (len + 1 > v->cap) {
        /* An idle user keeps its values: sized to the value (a token is the
         * same length each time), doubling only when one keeps growing. */
        uint32_t cap = (uint32_t)((len + 1 + 15) & ~(size_t)15);
        if (v->cap && cap <= 2 * v->cap)
            cap = 2 * v->cap;
        v->p = xrealloc(v->p, cap);
        v->cap = cap;
    }
    memcpy(v->p, val, len);
    v->p[len] = '\0';
    v->len = (uint32_t)len;
    v->set = true;
}

const char *session_judge(session_t *u, scratch_t *s, const plan_step_t *step, long status,
                          rng_t *rng, char *buf, size_t len)
{
    if (!step->n_expects && !step->n_extracts) {
        session_end(u, s);
        return NULL;
    }
    keep_t *k = u->keep;
    if (k && k->body_over) {
        snprintf(buf, len, "response body over %u MiB: too large to check or extract from",
                 HOPPER_MAX_KEPT_BODY / (1024 * 1024));
        session_end(u, s);
        return buf;
    }
    resp_t r = {
        .status = status,
        .body = k && k->body ? k->body : "",
        .body_len = k ? k->body_len : 0,
        .headers = k && k->headers ? k->headers : "",
        .headers_len = k ? k->headers_len : 0,
    };
    const char *fail = NULL;
    for (size_t i = 0; !fail && i < step->n_expects; i++)
        if (expect_check(&step->expects[i], &r, buf, len) != 0)
            fail = buf;
    for (size_t i = 0; !fail && i < step->n_extracts; i++) {
        const extract_t *e = &step->extracts[i];
        const char *val = NULL;
        size_t vlen = 0;
        if (extract_run(e, &r, rng, &s->scratch, &s->scratch_cap, &val, &vlen, buf, len) != 0)
            fail = buf;
        else
            set_var(&u->vars[e->slot], val, vlen);
    }
    resp_clear(&r);
    session_end(u, s);
    return fail;
}
