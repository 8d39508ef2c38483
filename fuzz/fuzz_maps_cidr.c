/*
 * Fuzz target: cidr: table text parsed from memory, looked up with fixed
 * IPv4/IPv6 addresses and with every word of the input.
 */
#include "base/buf.h"
#include "maps/maps.h"
#include "fuzz_text.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fixed[] = {
        "192.0.2.1", "10.0.0.1", "255.255.255.255", "0.0.0.0", "::1", "2001:db8::1",
        "::ffff:192.0.2.1", "fe80::1", "[2001:db8::2]",
    };
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    char *why = NULL;
    struct map *m = map_open_text("cidr", text, "fuzz", 0, &why);
    free(why);
    if (m != NULL) {
        struct buf v;
        buf_init(&v, 4096);
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            (void)map_lookup(m, fixed[i], &v);
        char *cursor = text, *word;
        int n = 0;
        while ((word = strtok_r(cursor, " \t\r\n!/", &cursor)) != NULL && n++ < 64)
            (void)map_lookup(m, word, &v);
        buf_free(&v);
        map_close(m);
    }
    free(text);
    return 0;
}
