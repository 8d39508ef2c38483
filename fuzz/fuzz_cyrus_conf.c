/*
 * Fuzz target: Cyrus SASL application files (smtpd.conf) as an
 * administrator or a copied Postfix setup may provide them, plus the
 * saslauthd reply reader on the same bytes (both are what the cyrus
 * backend reads from outside).
 */
#include "auth/cyrus_conf.h"
#include "auth/saslauthd.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cyrus_conf c;
    struct diag d;
    diag_init(&d);
    bool ok = cyrus_conf_parse((const char *)data, size, "smtpd.conf", &c, &d);
    if (ok != (d.errors == 0))
        abort();
    static const char *const keys[] = { "pwcheck_method", "mech_list", "saslauthd_path",
                                        "auxprop_plugin", "log_level" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = cyrus_conf_get(&c, keys[i]);
        if (v && (v[0] == '\0' || strlen(v) > CYRUS_CONF_VALUE_MAX))
            abort();
    }
    if (c.count > CYRUS_CONF_MAX_ENTRIES)
        abort();
    cyrus_conf_free(&c);
    diag_free(&d);
    char remark[64];
    enum saslauthd_answer a = saslauthd_reply(data, size, remark, sizeof(remark));
    if ((a == SASLAUTHD_YES || a == SASLAUTHD_NO) && size < 4)
        abort();
    return 0;
}
