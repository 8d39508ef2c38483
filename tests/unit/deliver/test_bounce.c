/*
 * Non-delivery notifications: the whole message for a fixed input (golden
 * text), headers-only returns (RET=HDRS, over bounce_size_limit), 8-bit
 * labelling, ORCPT xtext decoding and folding of long reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "deliver/bounce.h"

static int content_fd(const char *c)
{
    char path[] = "/tmp/test_bounce_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(pwrite(fd, "HEADER..", 8, 0), 8);
    assert_int_equal(pwrite(fd, c, strlen(c), 8), (ssize_t)strlen(c));
    return fd;
}

static const struct bounce_rcpt rcpts[] = {
    { "bob@example.com", "rfc822;Bob+2Bx@example.com", "5.1.1", "unknown user: \"bob\"" },
    { "carol@example.com", NULL, "5.2.2",
      "maildir delivery failed: error writing message: File too large" },
};

static struct bounce_request request(int fd, const char *c)
{
    return (struct bounce_request){
        .queue_id = "0ABCDEFGHIJ1", .new_queue_id = "0ABCDEFGHIKZ",
        .myhostname = "mx.example.com", .mail_name = "gatepost",
        .sender = "alice@example.org", .arrival_us = 1700000000000000LL,
        .rcpts = rcpts, .nrcpt = 2, .content_fd = fd, .content_offset = 8,
        .content_size = strlen(c), .size_limit = 50000,
        .now_us = 1700000100000000LL,
    };
}

static const char original[] = "Subject: test\nFrom: alice@example.org\n\nbody\n";

static const char golden[] =
    "Received: by mx.example.com (gatepost)\n"
    "\tid 0ABCDEFGHIKZ; Tue, 14 Nov 2023 22:15:00 +0000\n"
    "Date: Tue, 14 Nov 2023 22:15:00 +0000\n"
    "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "To: alice@example.org\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"0ABCDEFGHIKZ.1700000100/mx.example.com\"\n"
    "Message-Id: <20231114221500.0ABCDEFGHIKZ@mx.example.com>\n"
    "\n"
    "This is a MIME-encapsulated message.\n"
    "\n"
    "--0ABCDEFGHIKZ.1700000100/mx.example.com\n"
    "Content-Description: Notification\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "This is the mail system at host mx.example.com.\n"
    "\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n"
    "\n"
    "For further assistance, please send mail to postmaster.\n"
    "\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n"
    "\n"
    "                   The mail system\n"
    "\n"
    "<bob@example.com>: unknown user: \"bob\"\n"
    "\n"
    "<carol@example.com>: maildir delivery failed: error writing message: File\n"
    "    too large\n"
    "\n"
    "--0ABCDEFGHIKZ.1700000100/mx.example.com\n"
    "Content-Description: Delivery report\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.com\n"
    "X-Gatepost-Queue-ID: 0ABCDEFGHIJ1\n"
    "X-Gatepost-Sender: rfc822; alice@example.org\n"
    "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "\n"
    "Final-Recipient: rfc822; bob@example.com\n"
    "Original-Recipient: rfc822;Bob+x@example.com\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: X-Gatepost; unknown user: \"bob\"\n"
    "\n"
    "Final-Recipient: rfc822; carol@example.com\n"
    "Action: failed\n"
    "Status: 5.2.2\n"
    "Diagnostic-Code: X-Gatepost; maildir delivery failed: error writing message:\n"
    "    File too large\n"
    "\n"
    "--0ABCDEFGHIKZ.1700000100/mx.example.com\n"
    "Content-Description: Undelivered Message\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: test\n"
    "From: alice@example.org\n"
    "\n"
    "body\n"
    "\n"
    "--0ABCDEFGHIKZ.1700000100/mx.example.com--\n";

static int set_utc(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void full_notification(void **state)
{
    int fd = content_fd(original);
    struct bounce_request req = request(fd, original);
    struct buf out;
    buf_init(&out, 0);
    assert_true(bounce_build(&req, &out));
    if (strcmp(buf_cstr(&out), golden) != 0) {
        fprintf(stderr, "got:\n%s", buf_cstr(&out));
        fail_msg("notification differs from the golden text");
    }
    buf_free(&out);
    close(fd);
}

static void headers_only_returns(void **state)
{
    int fd = content_fd(original);
    struct bounce_request req = request(fd, original);
    struct buf out;
    req.headers_only = true;            /* RET=HDRS */
    buf_init(&out, 0);
    assert_true(bounce_build(&req, &out));
    assert_non_null(strstr(buf_cstr(&out),
        "Content-Description: Undelivered Message Headers\n"
        "Content-Type: text/rfc822-headers\n\n"
        "Subject: test\nFrom: alice@example.org\n\n--"));
    assert_null(strstr(buf_cstr(&out), "body"));
    buf_free(&out);
    req.headers_only = false;
    req.size_limit = 10;                /* larger than bounce_size_limit */
    buf_init(&out, 0);
    assert_true(bounce_build(&req, &out));
    assert_non_null(strstr(buf_cstr(&out), "Content-Type: text/rfc822-headers\n"));
    assert_null(strstr(buf_cstr(&out), "body"));
    buf_free(&out);
    close(fd);
}

static void eight_bit_and_envid(void **state)
{
    const char *c = "Subject: caf\xc3\xa9\n\nna\xc3\xafve\n";
    int fd = content_fd(c);
    struct bounce_request req = request(fd, c);
    req.envid = "QQ314159";
    struct buf out;
    buf_init(&out, 0);
    assert_true(bounce_build(&req, &out));
    const char *s = buf_cstr(&out);
    assert_non_null(strstr(s, "MIME-Version: 1.0\nContent-Type: multipart/report"));
    assert_non_null(strstr(s, "\nContent-Transfer-Encoding: 8bit\nMessage-Id:"));
    assert_non_null(strstr(s, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n"));
    assert_non_null(strstr(s, "Reporting-MTA: dns; mx.example.com\nOriginal-Envelope-Id: QQ314159\n"));
    buf_free(&out);
    close(fd);
}

static void unreadable_original_fails(void **state)
{
    struct bounce_request req = request(-1, original);
    struct buf out;
    buf_init(&out, 0);
    assert_false(bounce_build(&req, &out));
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_notification),
        cmocka_unit_test(headers_only_returns),
        cmocka_unit_test(eight_bit_and_envid),
        cmocka_unit_test(unreadable_original_fails),
    };
    return cmocka_run_group_tests(tests, set_utc, NULL);
}
