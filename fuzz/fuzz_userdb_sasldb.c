/*
 * Fuzz target: `db_dump -p` output of a Cyrus sasldb2, which `gatepost
 * user import-sasldb` reads from Berkeley DB's dump tool; the database being
 * migrated may be damaged or not a sasldb2 at all. The text is passed with
 * its length and no terminator, so a read past the end is seen. The first
 * byte of the input picks the entry at which the callback stops the parse
 * (most header lines can start with any byte), to cover the early stop.
 */
#include "auth/userdb.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    size_t size;
    unsigned calls, stop_at;
    bool stopped;
    uint8_t sum;
};

static bool entry(const char *user, const char *realm, const char *property,
                  const uint8_t *value, size_t len, void *arg)
{
    struct run *r = arg;
    if (r->stopped || user == NULL || realm == NULL || property == NULL ||
        (value == NULL && len > 0))
        abort();
    /* Each piece of a key line is shorter than the line, and so is a value. */
    size_t key = strlen(user) + strlen(realm) + strlen(property) + 2;
    if (key > r->size || len > r->size)
        abort();
    for (size_t i = 0; i < len; i++)
        r->sum ^= value[i];
    if (++r->calls == r->stop_at) {
        r->stopped = true;
        return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r = { size, 0, size > 0 ? data[0] % 8 : 0, false, 0 };
    /* Short enough that most messages are cut; left stale to see it cleared. */
    char err[48];
    memset(err, 'x', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    bool ok = userdb_sasldb_parse((const char *)data, size, entry, &r, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    if (ok && r.stopped)
        abort();
    /* Empty err on failure exactly when the callback stopped the parse. */
    if (!ok && (err[0] == '\0') != r.stopped)
        abort();
    return 0;
}
