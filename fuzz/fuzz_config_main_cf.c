/*
 * Fuzz target: main.cf text from memory through the whole loader (syntax,
 * name classification, computed defaults, expansion, type checks), then
 * every accessor and config_expand on the built config.
 */
#include "base/diag.h"
#include "config/config.h"
#include "fuzz_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_all(const struct config *cfg)
{
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        enum param_id id = (enum param_id)i;
        volatile size_t sink = strlen(cfg_str(cfg, id)) + strlen(cfg_raw(cfg, id))
                               + strlen(cfg_origin(cfg, id));
        (void)sink;
        switch (param_type_of(id)) {
        case PARAM_BOOL: (void)cfg_bool(cfg, id); break;
        case PARAM_INT: (void)cfg_int(cfg, id); break;
        case PARAM_TIME: (void)cfg_time_ms(cfg, id); break;
        case PARAM_SIZE: (void)cfg_size(cfg, id); break;
        case PARAM_STR: break;
        }
    }
    for (size_t i = 0; i < cfg_extra_count(cfg); i++)
        if (!cfg_lookup(cfg, cfg_extra_name(cfg, i)))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (64u << 10))
        return 0;
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_parse_text(text, "main.cf", &d);
    if (cfg) {
        touch_all(cfg);
        /* The same bytes as a restriction argument expanded at run time. */
        const char *why = NULL;
        free(config_expand(cfg, text, &why));
    }
    config_free(cfg);
    diag_free(&d);
    free(text);
    return 0;
}
