/*
 * Fuzz target: main.cf text through the loader and then the policy
 * compiler (restriction lists and classes, match lists, mynetworks, table
 * specifications), the part of start-up that turns an administrator's
 * restriction text into the engine's program. Inputs naming device or
 * kernel files are skipped: a table on /dev/zero would be read forever.
 */
#include "base/diag.h"
#include "config/config.h"
#include "policy/policy.h"
#include "fuzz_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (16u << 10))
        return 0;
    static const char *const special[] = { "/dev", "/proc", "/sys", "/run" };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (memmem(data, size, special[i], strlen(special[i])))
            return 0;
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_parse_text(text, "main.cf", &d);
    if (cfg) {
        size_t before = d.errors;
        struct policy_env *env = policy_env_new(cfg, &d);
        /* A refused policy says why; an accepted one added no error. */
        if ((env == NULL) != (d.errors > before))
            abort();
        policy_env_free(env);
    }
    config_free(cfg);
    diag_free(&d);
    free(text);
    return 0;
}
