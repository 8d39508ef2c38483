/*
 * Fuzz target: regexp: and pcre: tables (file text and the inline
 * "{ {rule}, ... }" form), then lookups with fixed keys and with the
 * input's lines, exercising $n substitution and if/endif nesting.
 * The first byte chooses the table type and form.
 */
#include "base/buf.h"
#include "maps/maps.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct map *open_table(unsigned mode, const char *text)
{
    const char *type = (mode & 1) ? "pcre" : "regexp";
    char *why = NULL;
    struct map *m;
    if (mode & 2) {
        size_t n = strlen(type) + strlen(text) + 2;
        char *spec = malloc(n);
        if (spec == NULL)
            return NULL;
        strcpy(spec, type);
        strcat(spec, ":");
        strcat(spec, text);
        m = map_open(spec, 0, &why);
        free(spec);
    } else {
        m = map_open_text(type, text, "fuzz", 0, &why);
    }
    free(why);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fixed[] = {
        "user@example.com", "postmaster", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        "owner-list@example.org", "192.0.2.1", "x\ny",
    };
    if (size < 1)
        return 0;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    struct map *m = open_table(data[0], text);
    if (m != NULL) {
        struct buf v;
        buf_init(&v, 4096);
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            (void)map_lookup(m, fixed[i], &v);
        char *cursor = text, *line;
        int n = 0;
        while ((line = strtok_r(cursor, "\n", &cursor)) != NULL && n++ < 16)
            (void)map_lookup(m, line, &v);
        buf_free(&v);
        map_close(m);
    }
    free(text);
    return 0;
}
