/*
 * The evaluator: runs compiled restriction lists with Postfix's semantics
 * (first decision wins, DUNNO moves on, warn_if_reject softens the next
 * restriction, defer_if_permit and defer_if_reject change the outcome
 * later) on an explicit stack of frames instead of the C stack.
 *
 * Why frames: a restriction may answer "pending" (a DNS or policy-service
 * lookup in flight). Evaluation then stops where it is and resumes later at
 * the same step, even inside a restriction class or an access table's
 * right-hand side, which a recursive evaluator could not do without
 * blocking. Every restriction implemented today answers at once; future
 * ones become rows of the restriction table that return R_PENDING and call
 * policy_eval_resume() on the loop thread.
 *
 * Invariant: frames[0..depth) are the lists being evaluated, outermost
 * first; frame level d (1-based) corresponds to Postfix's recursion level.
 */
#include "policy/policy_priv.h"

#include "base/log.h"

#include <stdlib.h>
#include <string.h>

const char *rv_reply_name(const struct policy_eval *ev)
{
    return ev->depth > 0 ? ev->frames[ev->depth - 1].reply_name : ev->namaddr;
}

const char *rv_reply_class(const struct policy_eval *ev)
{
    return ev->depth > 0 ? ev->frames[ev->depth - 1].reply_class : CLASS_CLIENT;
}

enum rstatus policy_eval_nested(struct policy_eval *ev, const struct rlist *list,
                                struct rlist *owned, const char *reply_name,
                                const char *reply_class, unsigned flags)
{
    if (ev->depth >= RFRAME_MAX) {
        rlist_free(owned);
        return rv_config_error(ev, "restriction list %s causes unreasonable recursion",
                               list->param);
    }
    ev->frames[ev->depth++] = (struct rframe){ list, 0, owned, reply_name, reply_class, flags };
    return R_NESTED;
}

/* Ends the top frame; returns the result as seen by the step that pushed it. */
static enum rstatus pop_frame(struct policy_eval *ev, enum rstatus r)
{
    struct rframe *fr = &ev->frames[--ev->depth];
    unsigned flags = fr->flags;
    rlist_free(fr->owned);
    fr->owned = NULL;
    /* Postfix: leaving a list ends a warn_if_reject armed at its parent's level or deeper. */
    if (ev->warn_level >= ev->depth)
        ev->warn_level = 0;
    if (r == R_OK && (flags & FR_FORBID_OK))
        return rv_config_error(ev, "restriction check_reverse_client_access returns OK "
                               "through %s; this is not allowed for security reasons",
                               fr->list->param);
    if (r == R_OK && (flags & FR_OK_IS_DUNNO))
        return R_DUNNO;
    return r;
}

/* Runs one step of the top frame. */
static enum rstatus exec_step(struct policy_eval *ev, const struct rstep *st)
{
    if (st->cls != NULL)
        return policy_eval_nested(ev, st->cls, NULL, rv_reply_name(ev), rv_reply_class(ev), 0);
    if (st->def->fn == NULL)
        return rv_config_error(ev, "restriction %s is not available", st->def->name);
    return st->def->fn(ev, st);
}

/*
 * After a step at level `level` answered r: Postfix's bookkeeping at the
 * end of each iteration of generic_checks(). Returns true when the frame's
 * list is finished (with *r its outcome).
 */
static bool step_done(struct policy_eval *ev, int level, enum rstatus *r)
{
    if (ev->warn_level >= level)
        ev->warn_level = 0;
    if (*r != R_DUNNO)
        return true;
    /* Both deferrals armed: nothing later can change the outcome. */
    return ev->dip.active && ev->dir.active;
}

/*
 * Runs frames until the outermost one (level base + 1) finishes, or a step
 * parks. `pending` is the result of a step that parked earlier (R_NESTED
 * when there is none to deliver).
 */
static enum rstatus run_frames(struct policy_eval *ev, int base, enum rstatus pending)
{
    enum rstatus r = pending;
    for (;;) {
        if (r == R_NESTED) {
            struct rframe *fr = &ev->frames[ev->depth - 1];
            if (fr->pos >= fr->list->n) {
                r = R_DUNNO;
            } else {
                const struct rstep *st = &fr->list->steps[fr->pos++];
                if (st->def->kind == RD_WARN_IF_REJECT) {
                    if (ev->warn_level == 0)
                        ev->warn_level = ev->depth;
                    continue;
                }
                r = exec_step(ev, st);
                if (r == R_PENDING)
                    return R_PENDING;
                if (r == R_NESTED)
                    continue;
                if (!step_done(ev, ev->depth, &r)) {
                    r = R_NESTED;
                    continue;
                }
            }
        }
        /* The top frame's list ended with r. */
        r = pop_frame(ev, r);
        if (ev->depth == base)
            return r;
        if (!step_done(ev, ev->depth, &r))
            r = R_NESTED;
    }
}

/* Starts a list at the outermost level; R_DUNNO for an empty or absent list. */
static enum rstatus run_list(struct policy_eval *ev, enum rlist_id id)
{
    const struct rlist *rl = ev->env->lists[id];
    static const char *const classes[RL_COUNT] = {
        [RL_CLIENT] = CLASS_CLIENT, [RL_HELO] = CLASS_HELO, [RL_SENDER] = CLASS_SENDER,
        [RL_RELAY] = CLASS_RECIPIENT, [RL_RECIPIENT] = CLASS_RECIPIENT,
        [RL_DATA] = CLASS_DATA, [RL_EOD] = CLASS_EOD, [RL_AUTH] = CLASS_CLIENT,
    };
    const char *name;
    switch (id) {
    case RL_HELO:
        name = ev->facts->helo;
        break;
    case RL_SENDER:
        name = ev->facts->sender;
        break;
    case RL_RELAY:
    case RL_RECIPIENT:
        name = ev->facts->recipient;
        break;
    case RL_DATA:
        name = "DATA";
        break;
    case RL_EOD:
        name = "END-OF-MESSAGE";
        break;
    default:
        name = ev->namaddr;
        break;
    }
    ev->cur_list = id;
    if (rl == NULL || rl->n == 0)
        return R_DUNNO;
    ev->frames[0] = (struct rframe){ rl, 0, NULL, name ? name : "", classes[id], 0 };
    ev->depth = 1;
    return run_frames(ev, 0, R_NESTED);
}

/* Implemented in policy_check.c: what a finished phase means for the stage. */
bool policy_phase_start(struct policy_eval *ev, const struct phase *ph, enum rstatus *r);
bool policy_phase_end(struct policy_eval *ev, const struct phase *ph, enum rstatus r);
void policy_eval_finish(struct policy_eval *ev);

bool policy_eval_run(struct policy_eval *ev)
{
    while (ev->phase < ev->nphase) {
        const struct phase *ph = &ev->plan[ev->phase];
        enum rstatus r = R_DUNNO;
        if (!ev->phase_started) {
            ev->phase_started = true;
            /* false: the phase needs its list evaluated. */
            if (!policy_phase_start(ev, ph, &r))
                r = run_list(ev, ph->list);
        } else {
            r = run_frames(ev, 0, R_NESTED);
        }
        if (r == R_PENDING) {
            ev->parked = true;
            return false;
        }
        ev->phase_started = false;
        ev->depth = 0;
        if (!policy_phase_end(ev, ph, r))
            break;
        ev->phase++;
    }
    policy_eval_finish(ev);
    return true;
}

void policy_eval_resume(struct policy_eval *ev, enum rstatus step_result)
{
    if (!ev->parked)
        log_panic("policy_eval_resume: evaluation is not parked");
    ev->parked = false;
    ev->park_cancel = NULL;
    ev->park_op = NULL;
    enum rstatus r = step_result;
    if (r != R_NESTED && !step_done(ev, ev->depth, &r))
        r = R_NESTED;
    if (r != R_NESTED) {
        /* The parked step ended its list: unwind as run_frames would. */
        r = pop_frame(ev, r);
        while (ev->depth > 0 && step_done(ev, ev->depth, &r))
            r = pop_frame(ev, r);
        if (ev->depth > 0)
            r = R_NESTED;
    }
    if (ev->depth > 0) {
        r = run_frames(ev, 0, r);
        if (r == R_PENDING) {
            ev->parked = true;
            return;
        }
    }
    ev->phase_started = false;
    ev->depth = 0;
    if (policy_phase_end(ev, &ev->plan[ev->phase], r))
        ev->phase++;
    else
        ev->phase = ev->nphase;
    if (policy_eval_run(ev)) {
        ev->done(ev->done_arg, &ev->decision);
        free(ev);
    }
}
