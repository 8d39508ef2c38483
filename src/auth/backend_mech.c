/*
 * The mechanism engine: runs SASL mechanisms (mech.h) over a credential
 * store, for the gatepost and cyrus backends.
 *
 * Every mechanism step, the first one included, runs on the workpool: a
 * step may hash a password (tens of milliseconds on purpose) or wait for
 * saslauthd, and the loop thread must stay free for other exchanges. An
 * exchange has at most one step in flight (the worker only sends a step
 * after a challenge), and its job lives inside it, so submitting never
 * allocates.
 *
 * Abort while a step runs only marks the exchange; the job's done
 * function, back on the loop thread, frees it without replying. The pool
 * is freed before the backends at shutdown, so done always finds its
 * backend alive.
 */
#include "auth/backend.h"

#include "auth/mech.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "event/workpool.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mech_backend {
    struct backend base;
    const struct backend_env *env;
    char *type;
    const struct cred_store *store;
    void (*free_store)(void *ctx);
    void *store_ctx;
    struct auth_mech_list list;
    struct mech_info *mechs;
};

struct backend_exchange {
    struct workpool_job job;        /* first: the job is the exchange */
    struct mech_backend *b;
    const struct mech_ops *ops;
    struct mech_exchange *mech;     /* created by the first step, on the pool */
    struct mech_request req;
    char *service, *realm, *client_addr;
    uint8_t *data;                  /* the pending step's input */
    size_t len;
    bool has_data;
    bool busy, aborted;
    struct mech_result res;
    backend_reply_fn fn;
    void *arg;
};

static const struct auth_mech_list *mb_mechs(struct backend *base)
{
    return &((struct mech_backend *)base)->list;
}

static void drop_data(struct backend_exchange *x)
{
    if (x->data) {
        OPENSSL_cleanse(x->data, x->len);   /* may hold a password */
        free(x->data);
    }
    x->data = NULL;
    x->len = 0;
}

static void exchange_free(struct backend_exchange *x)
{
    if (x->mech)
        x->ops->free(x->mech);
    drop_data(x);
    mech_result_free(&x->res);
    free(x->service);
    free(x->realm);
    free(x->client_addr);
    free(x);
}

/* Pool thread. */
static void run_step(struct workpool_job *job)
{
    struct backend_exchange *x = (struct backend_exchange *)job;
    mech_result_free(&x->res);
    mech_result_init(&x->res);
    if (x->mech == NULL)
        x->mech = x->ops->start(&x->req);
    if (x->mech == NULL) {
        x->res.status = MECH_TEMPFAIL;
        snprintf(x->res.reason, sizeof(x->res.reason), "%s: cannot start the mechanism",
                 x->ops->name);
        return;
    }
    x->ops->step(x->mech, x->data ? x->data : (const uint8_t *)"", x->len, x->has_data, &x->res);
}

/* Loop thread. */
static void step_done(struct workpool_job *job)
{
    struct backend_exchange *x = (struct backend_exchange *)job;
    x->busy = false;
    drop_data(x);
    if (x->aborted) {
        exchange_free(x);
        return;
    }
    struct auth_reply r = { 0 };
    const struct mech_result *res = &x->res;
    if (res->status == MECH_CONTINUE) {
        r.kind = AUTH_REPLY_CHALLENGE;
        r.data = (const uint8_t *)(res->challenge.data ? res->challenge.data : "");
        r.len = res->challenge.len;
        x->fn(x->arg, &r);
        return;
    }
    r.kind = res->status == MECH_SUCCESS ? AUTH_REPLY_SUCCESS : AUTH_REPLY_FAILURE;
    r.username = res->username;
    r.reason = res->reason[0] ? res->reason : "authentication failure";
    r.temporary = res->status == MECH_TEMPFAIL;
    backend_reply_fn fn = x->fn;
    void *arg = x->arg;
    /* The reply's strings live in x: call first, free after. */
    fn(arg, &r);
    exchange_free(x);
}

static void submit(struct backend_exchange *x, const uint8_t *data, size_t len, bool has_data)
{
    x->data = len ? xmalloc(len) : NULL;
    if (len)
        memcpy(x->data, data, len);
    x->len = len;
    x->has_data = has_data;
    x->busy = true;
    workpool_submit(x->b->env->pool, &x->job, run_step, step_done);
}

static bool offered(const struct mech_backend *b, const char *mech)
{
    for (size_t i = 0; i < b->list.count; i++)
        if (strcasecmp(b->list.mechs[i].name, mech) == 0)
            return true;
    return false;
}

static struct backend_exchange *mb_start(struct backend *base, const struct backend_request *rq,
                                         backend_reply_fn fn, void *arg, struct auth_reply *now)
{
    struct mech_backend *b = (struct mech_backend *)base;
    const struct mech_ops *ops = mech_find(rq->info->mech);
    if (ops == NULL || !offered(b, rq->info->mech)) {
        *now = (struct auth_reply){ .kind = AUTH_REPLY_FAILURE,
                                    .reason = "mechanism not offered" };
        return NULL;
    }
    struct backend_exchange *x = xcalloc(1, sizeof(*x));
    x->b = b;
    x->ops = ops;
    x->fn = fn;
    x->arg = arg;
    x->service = xstrdup(rq->sasl_service);
    x->realm = xstrdup(rq->realm ? rq->realm : "");
    x->client_addr = xstrdup(rq->info->client_addr ? rq->info->client_addr : "");
    x->req = (struct mech_request){ x->service, x->realm, x->client_addr, rq->info->secured,
                                    b->store };
    mech_result_init(&x->res);
    submit(x, rq->info->initial, rq->info->has_initial ? rq->info->initial_len : 0,
           rq->info->has_initial);
    return x;
}

static bool mb_step(struct backend_exchange *x, const uint8_t *data, size_t len,
                    struct auth_reply *now)
{
    if (x->busy)
        log_panic("auth: %s: step while a step runs", x->b->type);
    submit(x, data, len, true);
    return true;
}

static void mb_abort(struct backend_exchange *x)
{
    if (x->busy)
        x->aborted = true;
    else
        exchange_free(x);
}

static void mb_free(struct backend *base)
{
    struct mech_backend *b = (struct mech_backend *)base;
    if (b->free_store)
        b->free_store(b->store_ctx);
    free(b->mechs);
    free(b->type);
    free(b);
}

static const struct backend_ops mech_backend_ops = {
    .type = "mechanisms",
    .mechs = mb_mechs,
    .start = mb_start,
    .step = mb_step,
    .abort = mb_abort,
    .free = mb_free,
};

struct backend *backend_mech_new(const struct backend_env *env, const char *type,
                                 const struct cred_store *store, const char *const *names,
                                 size_t n, void (*free_store)(void *ctx), void *store_ctx)
{
    struct mech_backend *b = xcalloc(1, sizeof(*b));
    b->base.ops = &mech_backend_ops;
    b->env = env;
    b->type = xstrdup(type);
    b->store = store;
    b->free_store = free_store;
    b->store_ctx = store_ctx;
    b->mechs = xcalloc(n ? n : 1, sizeof(*b->mechs));
    for (size_t i = 0; i < n; i++) {
        const struct mech_info *info = mech_info_find(names[i]);
        if (info == NULL || mech_find(names[i]) == NULL)
            log_panic("auth: %s: mechanism %s is not implemented", type, names[i]);
        b->mechs[b->list.count++] = *info;
    }
    b->list.mechs = b->mechs;
    return &b->base;
}
