/*
 * Which restrictions run when (Postfix's smtpd_check_client/helo/mail/rcpt
 * drivers), as a short plan of phases per stage:
 *
 *   smtpd_delay_reject = yes (default): CONNECT, HELO and MAIL only note
 *   the new facts; at RCPT the client, helo and sender restrictions run
 *   (each once per session or transaction, its result remembered and
 *   repeated for every RCPT), then smtpd_relay_restrictions, then
 *   smtpd_recipient_restrictions (both run unless one rejects), then a
 *   pending defer_if_permit, then the unlisted-recipient check.
 *   smtpd_delay_reject = no: each stage runs its own list at once.
 *
 * A bare "postmaster" recipient is always accepted (RFC 5321 section 4.5.1),
 * before any delayed restriction, as in Postfix. A temporary failure is not
 * remembered: the next RCPT tries again.
 */
#include "policy/policy_priv.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by policy_eval.c. */
bool policy_phase_start(struct policy_eval *ev, const struct phase *ph, enum rstatus *r);
bool policy_phase_end(struct policy_eval *ev, const struct phase *ph, enum rstatus r);
void policy_eval_finish(struct policy_eval *ev);

void policy_session_init(struct policy_session *ps)
{
    memset(ps, 0, sizeof(*ps));
}

void policy_session_new_transaction(struct policy_session *ps)
{
    ps->sender_done = false;
    ps->sender_dip_set = false;
}

void policy_session_new_helo(struct policy_session *ps)
{
    ps->helo_done = false;
    ps->helo_dip_set = false;
}

static void plan(struct policy_eval *ev, enum phase_kind kind, enum rlist_id list)
{
    if (ev->nphase < PHASE_MAX)
        ev->plan[ev->nphase++] = (struct phase){ kind, list };
}

static void build_plan(struct policy_eval *ev)
{
    bool now = !ev->env->delay_reject;
    switch (ev->stage) {
    case STAGE_CONNECT:
        if (now)
            plan(ev, PH_MEMO_CLIENT, RL_CLIENT);
        break;
    case STAGE_HELO:
        if (now) {
            plan(ev, PH_MEMO_CLIENT, RL_CLIENT);
            plan(ev, PH_MEMO_HELO, RL_HELO);
        }
        break;
    case STAGE_MAIL:
        if (now) {
            plan(ev, PH_MEMO_CLIENT, RL_CLIENT);
            plan(ev, PH_MEMO_HELO, RL_HELO);
            plan(ev, PH_MEMO_SENDER, RL_SENDER);
        }
        break;
    case STAGE_RCPT:
        plan(ev, PH_MEMO_CLIENT, RL_CLIENT);
        plan(ev, PH_MEMO_HELO, RL_HELO);
        plan(ev, PH_MEMO_SENDER, RL_SENDER);
        plan(ev, PH_LIST, RL_RELAY);
        plan(ev, PH_LIST, RL_RECIPIENT);
        plan(ev, PH_DIP, RL_RECIPIENT);
        plan(ev, PH_UNLISTED_RCPT, RL_RECIPIENT);
        break;
    case STAGE_DATA:
        plan(ev, PH_LIST, RL_DATA);
        plan(ev, PH_DIP, RL_DATA);
        break;
    case STAGE_END_OF_DATA:
        plan(ev, PH_LIST, RL_EOD);
        plan(ev, PH_DIP, RL_EOD);
        break;
    case STAGE_AUTH:
        plan(ev, PH_LIST, RL_AUTH);
        break;
    case STAGE_COUNT:
        break;
    }
}

/* The memory slot of a memo phase. */
static struct policy_decision *memo_slot(struct policy_session *ps, enum phase_kind kind,
                                         bool **done, struct policy_decision **dip,
                                         bool **dip_set)
{
    switch (kind) {
    case PH_MEMO_CLIENT:
        *done = &ps->client_done, *dip = &ps->client_dip, *dip_set = &ps->client_dip_set;
        return &ps->client;
    case PH_MEMO_HELO:
        *done = &ps->helo_done, *dip = &ps->helo_dip, *dip_set = &ps->helo_dip_set;
        return &ps->helo;
    default:
        *done = &ps->sender_done, *dip = &ps->sender_dip, *dip_set = &ps->sender_dip_set;
        return &ps->sender;
    }
}

/* Postfix's SMTPD_CHECK_RESET plus the defer_if_permit inherited from earlier stages. */
static void reset_for(struct policy_eval *ev, enum phase_kind upto)
{
    const struct policy_session *ps = ev->ps;
    ev->warn_level = 0;
    ev->dir.active = false;
    ev->dip.active = false;
    const struct { bool set; const struct policy_decision *d; enum phase_kind from; } earlier[] = {
        { ps->client_dip_set, &ps->client_dip, PH_MEMO_CLIENT },
        { ps->helo_dip_set, &ps->helo_dip, PH_MEMO_HELO },
        { ps->sender_dip_set, &ps->sender_dip, PH_MEMO_SENDER },
    };
    for (size_t i = 0; i < 3 && earlier[i].from < upto; i++) {
        if (earlier[i].set) {
            ev->dip.active = true;
            ev->dip.cls = ERR_POLICY;
            ev->dip.d = *earlier[i].d;
            return;
        }
    }
}

static bool memo_start(struct policy_eval *ev, const struct phase *ph, enum rstatus *r)
{
    const struct policy_facts *f = ev->facts;
    bool *done, *dip_set;
    struct policy_decision *dip;
    struct policy_decision *slot = memo_slot(ev->ps, ph->kind, &done, &dip, &dip_set);
    ev->memo_hit = true;
    if ((ph->kind == PH_MEMO_HELO && f->helo == NULL)
        || (ph->kind == PH_MEMO_SENDER && f->sender == NULL)) {
        *r = R_DUNNO;
        return true;
    }
    if (*done) {
        *r = slot->action == POLICY_OK ? R_DUNNO : R_REJECT;
        if (*r == R_REJECT)
            ev->decision = *slot;
        return true;
    }
    ev->memo_hit = false;
    reset_for(ev, ph->kind);
    return false;
}

bool policy_phase_start(struct policy_eval *ev, const struct phase *ph, enum rstatus *r)
{
    switch (ph->kind) {
    case PH_MEMO_CLIENT:
    case PH_MEMO_HELO:
    case PH_MEMO_SENDER:
        return memo_start(ev, ph, r);
    case PH_LIST:
        /* Relay and recipient restrictions share one reset (Postfix runs them as one check). */
        if (ph->list != RL_RECIPIENT)
            reset_for(ev, ev->stage == STAGE_RCPT ? PH_LIST : PH_MEMO_CLIENT);
        return false;
    case PH_DIP:
        *r = R_DUNNO;
        if (ev->dip.active)
            *r = rv_reject(ev, ev->dip.cls, ev->dip.d.code, ev->dip.d.enhanced, "%s",
                           ev->dip.d.text);
        return true;
    case PH_UNLISTED_RCPT:
        *r = R_DUNNO;
        if (ev->env->reject_unlisted_recipient && !ev->rcpt_map_checked
            && ev->facts->recipient && *ev->facts->recipient)
            *r = route_check_rcpt_maps(ev, ev->facts->recipient, CLASS_RECIPIENT);
        return true;
    }
    return true;
}

/* Remembers a freshly evaluated client/helo/sender outcome. */
static void memo_store(struct policy_eval *ev, const struct phase *ph, enum rstatus r)
{
    bool *done, *dip_set;
    struct policy_decision *dip;
    struct policy_decision *slot = memo_slot(ev->ps, ph->kind, &done, &dip, &dip_set);
    if (r == R_REJECT) {
        /* A temporary failure is retried at the next command. */
        if (ev->decision.action == POLICY_TEMPFAIL)
            return;
        *slot = ev->decision;
    } else {
        memset(slot, 0, sizeof(*slot));
        slot->action = POLICY_OK;
        if (ev->dip.active) {
            *dip = ev->dip.d;
            *dip_set = true;
        }
    }
    *done = true;
}

bool policy_phase_end(struct policy_eval *ev, const struct phase *ph, enum rstatus r)
{
    bool memo = ph->kind == PH_MEMO_CLIENT || ph->kind == PH_MEMO_HELO
                || ph->kind == PH_MEMO_SENDER;
    if (memo && !ev->memo_hit) {
        const char *sender = ev->facts->sender;
        /* smtpd_reject_unlisted_sender runs after the sender restrictions. */
        if (ph->kind == PH_MEMO_SENDER && r != R_REJECT && ev->env->reject_unlisted_sender
            && !ev->sender_map_checked && sender && *sender)
            r = route_check_rcpt_maps(ev, sender, CLASS_SENDER);
        memo_store(ev, ph, r);
    }
    ev->memo_hit = false;
    if (r == R_REJECT) {
        ev->rejected = true;
        return false;
    }
    return true;
}

void policy_eval_finish(struct policy_eval *ev)
{
    if (!ev->rejected) {
        memset(&ev->decision, 0, sizeof(ev->decision));
        ev->decision.action = POLICY_OK;
    }
}

static bool is_bare_postmaster(const char *rcpt)
{
    return rcpt != NULL && str_ieq(rcpt, "postmaster");
}

bool policy_check(struct policy_env *env, enum policy_stage stage,
                  const struct policy_facts *facts, struct policy_session *ps,
                  struct policy_decision *out, policy_done_fn done, void *arg,
                  struct policy_eval **pending)
{
    struct policy_eval *ev = xcalloc(1, sizeof(*ev));
    ev->env = env;
    ev->stage = stage;
    ev->facts = facts;
    ev->ps = ps;
    ev->done = done;
    ev->done_arg = arg;
    snprintf(ev->namaddr, sizeof(ev->namaddr), "%.200s[%.60s]",
             facts->client_name && *facts->client_name ? facts->client_name : "unknown",
             facts->client_addr_text ? facts->client_addr_text : "unknown");
    if (stage == STAGE_HELO)
        policy_session_new_helo(ps);
    if (stage == STAGE_MAIL)
        policy_session_new_transaction(ps);
    if (!(stage == STAGE_RCPT && is_bare_postmaster(facts->recipient)))
        build_plan(ev);
    if (policy_eval_run(ev)) {
        *out = ev->decision;
        free(ev);
        if (pending)
            *pending = NULL;
        return true;
    }
    *pending = ev;
    return false;
}

void policy_cancel(struct policy_eval *ev)
{
    if (ev == NULL)
        return;
    if (ev->park_cancel)
        ev->park_cancel(ev->park_op);
    for (int i = 0; i < ev->depth; i++)
        rlist_free(ev->frames[i].owned);
    free(ev);
}
