/*
 * The built-in configuration used when none exists: a private test server
 * on 127.0.0.1:2525 that accepts mail for user@localhost (user+ext too)
 * into Maildirs under the state directory, relays nothing, and keeps its
 * queue there too. It runs unchanged as an ordinary user, so trying
 * gatepost needs neither root nor an /etc/gatepost.
 *
 * The text is a template: @STATE@, @UID@ and @GID@ are replaced by the
 * state directory and the identity mailboxes are written as.
 */
#include "config/config_internal.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char embedded_main_cf[] =
    "# gatepost built-in configuration, used when no main.cf exists.\n"
    "#\n"
    "# A private test server: it listens on 127.0.0.1:2525 (see master.cf),\n"
    "# accepts mail for user@localhost and user+extension@localhost, stores\n"
    "# it in Maildirs under @STATE@/mail/USER/, and relays nothing but\n"
    "# mail from 127.0.0.0/8 and [::1]/128. @STATE@ is the state directory\n"
    "# (./run when started from a working directory); @UID@:@GID@ is the\n"
    "# identity mailboxes are written as: whoever started gatepost.\n"
    "#\n"
    "# Copy this text to /etc/gatepost/main.cf to start your own\n"
    "# configuration; `gatepost config -n` shows what it sets.\n"
    "inet_interfaces = 127.0.0.1\n"
    "mydestination =\n"
    "mynetworks = 127.0.0.0/8 [::1]/128\n"
    "queue_directory = @STATE@/queue\n"
    "data_directory = @STATE@/data\n"
    "sasl_user_database = @STATE@/sasl_users.lmdb\n"
    "virtual_mailbox_domains = localhost\n"
    "virtual_mailbox_base = @STATE@/mail\n"
    "virtual_mailbox_maps = pcre:{{/^([a-z0-9][a-z0-9._-]*)(\\+[^@]*)?@localhost$/ $${1}/}}\n"
    "virtual_uid_maps = static:@UID@\n"
    "virtual_gid_maps = static:@GID@\n"
    "virtual_minimum_uid = 0\n";

static const char embedded_master_cf[] =
    "# gatepost built-in master.cf: one SMTP service on the loopback address.\n"
    "127.0.0.1:2525 inet n - n - - smtpd\n";

const char *config_embedded_main_cf(void)
{
    return embedded_main_cf;
}

const char *config_embedded_master_cf(void)
{
    return embedded_master_cf;
}

/* The template with its placeholders replaced. */
static char *instantiate(const char *state_dir, unsigned uid, unsigned gid)
{
    char uid_text[16], gid_text[16];
    snprintf(uid_text, sizeof(uid_text), "%u", uid);
    snprintf(gid_text, sizeof(gid_text), "%u", gid);
    const struct { const char *key, *value; } subst[] = {
        { "@STATE@", state_dir }, { "@UID@", uid_text }, { "@GID@", gid_text },
    };
    struct buf out;
    buf_init(&out, CONFIG_FILE_MAX);
    for (const char *p = embedded_main_cf; *p;) {
        size_t k = 0;
        while (k < 3 && strncmp(p, subst[k].key, strlen(subst[k].key)) != 0)
            k++;
        if (k < 3) {
            /* A "$" in a path must stay literal in main.cf syntax. */
            for (const char *v = subst[k].value; *v; v++)
                buf_puts(&out, *v == '$' ? "$$" : (char[2]){ *v, '\0' });
            p += strlen(subst[k].key);
        } else {
            buf_putc(&out, *p++);
        }
    }
    return buf_steal(&out);
}

struct config *config_load_embedded(const char *state_dir, unsigned mail_owner_uid,
                                    unsigned mail_owner_gid, struct diag *diag)
{
    if (state_dir[0] != '/' || strchr(state_dir, '\n')) {
        diag_add(diag, DIAG_ERROR, "embedded main.cf",
                 "state directory \"%s\" is not an absolute path on one line", state_dir);
        return NULL;
    }
    char *text = instantiate(state_dir, mail_owner_uid, mail_owner_gid);
    struct config *cfg = cfg_parse_embedded(text, "embedded main.cf", diag);
    free(text);
    return cfg;
}
