/*
 * Fuzz target for the streaming header scanner: the same content fed
 * whole and in random chunks gives the same results; the Message-ID is
 * bounded and free of control characters.
 */
#include "smtp/header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void scan(struct smtp_header_scan *h, const char *p, size_t n, uint32_t seed)
{
    smtp_header_scan_init(h);
    size_t i = 0;
    while (i < n) {
        size_t len = n - i;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            len = 1 + (seed >> 16) % 37;
            if (len > n - i)
                len = n - i;
        }
        smtp_header_scan_feed(h, p + i, len);
        i += len;
    }
    smtp_header_scan_finish(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct smtp_header_scan a, b;
    scan(&a, (const char *)data + 1, size - 1, 0);
    scan(&b, (const char *)data + 1, size - 1, data[0] * 2u + 1);
    if (!a.done || !b.done || a.has_date != b.has_date || a.has_from != b.has_from
        || a.has_message_id != b.has_message_id
        || a.message_id_truncated != b.message_id_truncated
        || a.received_count != b.received_count
        || strcmp(a.message_id, b.message_id) != 0)
        abort();
    size_t len = strlen(a.message_id);
    if (len > SMTP_MSGID_MAX || (!a.has_message_id && len != 0))
        abort();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)a.message_id[i] < 0x20 || a.message_id[i] == 0x7f)
            abort();
    return 0;
}
