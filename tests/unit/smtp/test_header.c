/*
 * Streaming header scanner: Message-ID extraction (folded, bracketed,
 * bounded), Date/From presence, Received counting, the end of the header
 * section, and identical results for any chunking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/header.h"

struct header_case {
    const char *name;
    const char *in;
    const char *msgid;
    bool has_msgid, date, from;
    unsigned received;
    bool done;              /* ended by the content itself, before finish() */
};

static const struct header_case cases[] = {
    { "simple", "Message-ID: <abc@host>\nDate: x\nFrom: a\n\nbody\n",
      "abc@host", true, true, true, 0, true },
    { "case and spacing", "message-id:<abc@host>\ndate:x\nFROM :a\n\n",
      "abc@host", true, true, true, 0, true },
    { "folded", "Message-ID:\n <abc@\n\thost>\n\n", "abc@ host", true, false, false, 0, true },
    { "folded before bracket", "Message-ID:\n\t<x@y>\nSubject: s\n\n", "x@y", true, false, false, 0, true },
    { "no brackets", "Message-ID:   bare-id   \n\n", "bare-id", true, false, false, 0, true },
    { "unclosed bracket", "Message-ID: <abc\n\n", "abc", true, false, false, 0, true },
    { "comment before", "Message-ID: (c) <id@x> (d)\n\n", "id@x", true, false, false, 0, true },
    { "first one wins", "Message-ID: <one@x>\nMessage-ID: <two@x>\n\n", "one@x", true, false, false, 0, true },
    { "empty value", "Message-ID:\n\n", "", true, false, false, 0, true },
    { "received counted", "Received: a\nReceived: b\n  folded\nreceived: c\nX: y\n\n",
      "", false, false, false, 3, true },
    { "not received", "Received-SPF: pass\nX-Received: a\n\n", "", false, false, false, 0, true },
    { "similar names", "Dates: x\nFromage: y\nMessage-IDs: <z>\n\n", "", false, false, false, 0, true },
    { "body not scanned", "Subject: s\n\nReceived: a\nMessage-ID: <b@c>\n", "", false, false, false, 0, true },
    { "non-header ends section", "Subject: s\nthis is body\nReceived: x\n", "", false, false, false, 0, true },
    { "leading blank line", "\nReceived: x\n", "", false, false, false, 0, true },
    { "continuation first", " folded\nReceived: x\n", "", false, false, false, 0, true },
    { "colon first", ":x\nReceived: x\n", "", false, false, false, 0, true },
    { "bare CR in name", "Rec\reived: x\n", "", false, false, false, 0, true },
    { "all header", "Received: a\nDate: d\n", "", false, true, false, 1, false },
    { "msgid at end", "Message-ID: <last@x>", "last@x", true, false, false, 0, false },
    { "CR kept as space", "Message-ID: <a@b>\r\n\r\n", "a@b", true, false, false, 0, true },
    { "control chars made safe", "Message-ID: <a\x01" "b@c>\n\n", "a?b@c", true, false, false, 0, true },
    { "mbox From line", "From someone Mon\nReceived: x\n", "", false, false, false, 0, true },
};

static void scan(struct smtp_header_scan *h, const char *in, size_t n, size_t chunk,
                 bool finish)
{
    smtp_header_scan_init(h);
    if (chunk == 0)
        chunk = n ? n : 1;
    for (size_t i = 0; i < n; i += chunk)
        smtp_header_scan_feed(h, in + i, n - i < chunk ? n - i : chunk);
    if (finish)
        smtp_header_scan_finish(h);
}

static void table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct header_case *c = &cases[i];
        size_t n = strlen(c->in);
        for (size_t chunk = 0; chunk <= 4; chunk++) {
            struct smtp_header_scan h;
            scan(&h, c->in, n, chunk, false);
            if (h.done != c->done)
                fail_msg("'%s' chunk %zu: done %d", c->name, chunk, h.done);
            smtp_header_scan_finish(&h);
            if (strcmp(h.message_id, c->msgid) != 0 || h.has_message_id != c->has_msgid
                || h.has_date != c->date || h.has_from != c->from
                || h.received_count != c->received || !h.done)
                fail_msg("'%s' chunk %zu: msgid '%s' (%d) date %d from %d received %u",
                         c->name, chunk, h.message_id, h.has_message_id, h.has_date,
                         h.has_from, h.received_count);
        }
    }
}

static void message_id_is_bounded(void **state)
{
    size_t n = 20 + 3000;
    char *in = malloc(n + 10);
    strcpy(in, "Message-ID: <");
    size_t o = strlen(in);
    memset(in + o, 'x', 2000), o += 2000;
    memcpy(in + o, "@host>\n\n", 8), o += 8;
    for (size_t chunk = 0; chunk < 3; chunk++) {
        struct smtp_header_scan h;
        scan(&h, in, o, chunk == 0 ? 0 : chunk * 7, true);
        assert_true(h.has_message_id);
        assert_true(h.message_id_truncated);
        assert_int_equal(strlen(h.message_id), SMTP_MSGID_MAX);
    }
    /* Exactly the limit fits. */
    strcpy(in, "Message-ID: <");
    o = strlen(in);
    memset(in + o, 'y', SMTP_MSGID_MAX), o += SMTP_MSGID_MAX;
    memcpy(in + o, ">\n\n", 3), o += 3;
    struct smtp_header_scan h;
    scan(&h, in, o, 0, true);
    assert_false(h.message_id_truncated);
    assert_int_equal(strlen(h.message_id), SMTP_MSGID_MAX);
    free(in);
}

static void many_received_headers(void **state)
{
    size_t count = 60;
    char *in = malloc(count * 20 + 2);
    size_t o = 0;
    for (size_t i = 0; i < count; i++)
        o += (size_t)sprintf(in + o, "Received: hop %zu\n", i);
    in[o++] = '\n';
    struct smtp_header_scan h;
    scan(&h, in, o, 5, true);
    assert_int_equal(h.received_count, count);
    free(in);
}

static void long_header_lines(void **state)
{
    /* A huge header value is skipped without being stored. */
    size_t n = 100000;
    char *in = malloc(n + 64);
    size_t o = (size_t)sprintf(in, "X-Long: ");
    memset(in + o, 'z', n), o += n;
    o += (size_t)sprintf(in + o, "\nDate: now\n\n");
    struct smtp_header_scan h;
    scan(&h, in, o, 4096, true);
    assert_true(h.has_date);
    free(in);
}

static void feed_after_done_is_ignored(void **state)
{
    struct smtp_header_scan h;
    smtp_header_scan_init(&h);
    smtp_header_scan_feed(&h, "Subject: a\n\n", 12);
    assert_true(h.done);
    smtp_header_scan_feed(&h, "Received: x\n", 12);
    assert_int_equal(h.received_count, 0);
    smtp_header_scan_finish(&h);
    smtp_header_scan_finish(&h);
    assert_true(h.done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(message_id_is_bounded),
        cmocka_unit_test(many_received_headers),
        cmocka_unit_test(long_header_lines),
        cmocka_unit_test(feed_after_done_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
