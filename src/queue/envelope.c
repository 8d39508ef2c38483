/*
 * Envelope helpers. Every string in a struct queue_envelope is owned by
 * it (heap copies), so one free releases the lot.
 */
#include "queue/envelope.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

void queue_envelope_free(struct queue_envelope *env)
{
    if (env == NULL)
        return;
    for (size_t i = 0; i < env->nrcpt; i++) {
        free(env->rcpts[i].address);
        free(env->rcpts[i].orcpt);
    }
    free(env->rcpts);
    free(env->sender);
    free(env->client_name);
    free(env->client_addr);
    free(env->helo);
    free(env->protocol);
    free(env->sasl_method);
    free(env->sasl_username);
    free(env->message_id);
    free(env->envid);
    memset(env, 0, sizeof(*env));
}

struct queue_recipient *queue_envelope_new_rcpt(struct queue_envelope *env)
{
    /*
     * Grow by doubling: the array is reallocated when the count reaches a
     * power of two, so its capacity is implied by nrcpt and never stored.
     */
    size_t n = env->nrcpt;
    if ((n & (n - 1)) == 0)
        env->rcpts = xrealloc(env->rcpts, (n ? n * 2 : 1) * sizeof(*env->rcpts));
    struct queue_recipient *r = &env->rcpts[n];
    memset(r, 0, sizeof(*r));
    r->status = RCPT_PENDING;
    env->nrcpt = n + 1;
    return r;
}

void queue_envelope_add_rcpt(struct queue_envelope *env, const char *address,
                             const char *orcpt, int notify)
{
    struct queue_recipient *r = queue_envelope_new_rcpt(env);
    r->address = xstrdup(address);
    r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
    r->notify = notify;
}
