/*
 * Fuzz target: texthash: table text (postmap source format) parsed from
 * memory, then looked up with keys taken from the input itself.
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
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    char *why = NULL;
    struct map *m = map_open_text("texthash", text, "fuzz", MAP_FOLD_CASE, &why);
    free(why);
    if (m != NULL) {
        struct buf v;
        buf_init(&v, 4096);
        /* Every word of the input is a plausible key. */
        char *cursor = text, *word;
        int n = 0;
        while ((word = strtok_r(cursor, " \t\r\n", &cursor)) != NULL && n++ < 64)
            (void)map_lookup(m, word, &v);
        (void)map_lookup(m, "", &v);
        buf_free(&v);
        map_close(m);
    }
    free(text);
    return 0;
}
