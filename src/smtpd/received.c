/*
 * The Received: trace header (RFC 5321 4.4), in Postfix's layout:
 *
 *   Received: from HELO (NAME [ADDR])
 *           by MYHOSTNAME (gatepost) with ESMTP id QUEUEID
 *           for <RCPT>; Mon, 23 Nov 2026 09:44:00 +0100
 *
 * The "with" keyword follows RFC 3848 and RFC 6531: SMTP, ESMTP, with S
 * for TLS and A for authentication, UTF8 prefixes for SMTPUTF8 mail. The
 * recipient is named only when there is exactly one, so a Bcc recipient
 * is never disclosed to the others.
 */
#include "smtpd/session.h"

#include "base/clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const char *with_keyword(const struct smtpd_session *s, char *out, size_t size)
{
    bool utf8 = s->txn && s->txn->mail.smtputf8;
    bool tls = conn_is_secure(&s->conn);
    bool auth = smtpd_auth_username(s) != NULL;
    snprintf(out, size, "%s%s%s%s", utf8 ? "UTF8SMTP" : (s->esmtp ? "ESMTP" : "SMTP"),
             tls ? "S" : "", auth ? "A" : "", "");
    return out;
}

void smtpd_received_header(const struct smtpd_session *s, struct buf *out)
{
    char with[32], date[64], addr[NETADDR_TEXT_MAX + 8];
    clock_rfc5322(time(NULL), date, sizeof(date));
    if (s->addr.family == AF_INET6)
        snprintf(addr, sizeof(addr), "IPv6:%s", s->addr_text);
    else
        snprintf(addr, sizeof(addr), "%s", s->addr_text);
    buf_printf(out, "Received: from %s (%s [%s])\n", s->helo ? s->helo : s->name, s->name, addr);
    if (s->svc->tls_received_header && conn_is_secure(&s->conn)) {
        struct tls_info info;
        char text[512];
        conn_tls_info(&s->conn, &info);
        tls_info_format_folded(&info, "\n\t ", text, sizeof(text));
        buf_printf(out, "\t(using %s)\n\t(No client certificate requested)\n", text);
    }
    if (s->svc->auth && s->svc->auth->authenticated_header && smtpd_auth_username(s))
        buf_printf(out, "\t(Authenticated sender: %s)\n", smtpd_auth_username(s));
    buf_printf(out, "\tby %s (%s) with %s id %s", s->svc->myhostname, s->svc->mail_name,
               with_keyword(s, with, sizeof(with)), s->txn->queue_id);
    if (s->txn->nrcpt == 1)
        buf_printf(out, "\n\tfor <%s>; %s\n", s->txn->rcpts[0].address, date);
    else
        buf_printf(out, "; %s\n", date);
}
