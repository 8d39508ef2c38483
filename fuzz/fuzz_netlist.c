/*
 * Fuzz target: network and domain lists (mynetworks-style text) compiled
 * and matched against fixed clients and domains. Inputs that name files
 * ("/path" items, "type:/path" tables) are skipped: the target must not
 * read the file system.
 */
#include "base/diag.h"
#include "base/netaddr.h"
#include "policy/domainlist.h"
#include "policy/netlist.h"
#include "fuzz_text.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when some item would open a file. */
static bool names_files(const char *text)
{
    if (strstr(text, ":/") != NULL)
        return true;
    for (const char *p = text; *p; p++) {
        if (*p != '/')
            continue;
        const char *q = p;
        while (q > text && q[-1] == '!')
            q--;
        if (q == text || strchr(", \t\r\n{}", q[-1]) != NULL)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const addrs[] = { "192.0.2.1", "127.0.0.1", "::1", "2001:db8::5", "10.1.2.3" };
    static const char *const names[] = { NULL, "unknown", "mail.example.com", "example.com", "a.b.c" };
    char *text = fuzz_text(data, size);
    if (text == NULL)
        return 0;
    if (names_files(text)) {
        free(text);
        return 0;
    }
    struct diag d;
    diag_init(&d);
    struct netlist *nl = netlist_compile(text, "mynetworks", "fuzz:1", &d);
    if (nl != NULL) {
        for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
            struct netaddr a;
            if (netaddr_parse(addrs[i], &a))
                (void)netlist_match(nl, &a, names[i % 5]);
        }
        netlist_free(nl);
    }
    struct domainlist *dl = domainlist_compile(text, "relay_domains", size & 1, "fuzz:1", &d);
    if (dl != NULL) {
        for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
            (void)domainlist_match(dl, names[i]);
        domainlist_free(dl);
    }
    diag_free(&d);
    free(text);
    return 0;
}
