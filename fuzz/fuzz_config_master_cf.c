/*
 * Fuzz target: master.cf text from memory through the service parser, and
 * every smtpd service's -o overrides through config_derive against a fixed
 * main.cf that defines variables for the overrides to use.
 */
#include "base/diag.h"
#include "config/config.h"
#include "config/master_cf.h"
#include "fuzz_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_main_cf[] =
    "mua_client_restrictions = permit_sasl_authenticated, reject\n"
    "limit = 10\n"
    "smtpd_soft_error_limit = $limit\n"
    "smtpd_banner = $myhostname ESMTP ${mail_name?{$mail_name}:{none}}\n";

static struct config *base_config(void)
{
    static struct config *base;
    if (!base) {
        struct diag d;
        diag_init(&d);
        base = config_parse_text(base_main_cf, "main.cf", &d);
        diag_free(&d);
        if (!base)
            abort();
    }
    return base;
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
    struct master_cf *mcf = master_cf_parse(text, "master.cf", &d);
    for (size_t i = 0; mcf && i < mcf->count; i++) {
        const struct master_service *s = &mcf->services[i];
        if (!s->name || !s->command || !s->args)
            abort();
        if (s->kind != SERVICE_SMTPD_INET)
            continue;
        config_free(config_derive(base_config(), s->overrides, s->noverrides, s->name, &d));
    }
    master_cf_free(mcf);
    diag_free(&d);
    free(text);
    return 0;
}
