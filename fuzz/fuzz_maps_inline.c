/*
 * Fuzz target: the table types whose contents are their name: inline:{...}
 * and static:{...}, opened from the input and looked up with its words.
 */
#include "base/buf.h"
#include "maps/maps.h"
#include "fuzz_text.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void probe(const char *prefix, const char *text, const char *keys)
{
    size_t n = strlen(prefix) + strlen(text) + 1;
    char *spec = malloc(n);
    if (spec == NULL)
        return;
    strcpy(spec, prefix);
    strcat(spec, text);
    char *why = NULL;
    struct map *m = map_open(spec, MAP_FOLD_CASE, &why);
    free(why);
    free(spec);
    if (m == NULL)
        return;
    struct buf v;
    buf_init(&v, 4096);
    char *copy = strdup(keys), *cursor = copy, *word;
    int count = 0;
    while (copy && (word = strtok_r(cursor, " \t\r\n,={}", &cursor)) != NULL && count++ < 64)
        (void)map_lookup(m, word, &v);
    free(copy);
    buf_free(&v);
    map_close(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    probe("inline:", text, text);
    probe("static:", text, text);
    free(text);
    return 0;
}
