/*
 * yescrypt hashing and constant-time verification; see password.h. Each
 * computation uses its own struct crypt_data (32 KiB, heap), so calls are
 * safe from many threads; the dummy setting is shared under a mutex and
 * renewed when the cost changes.
 */
#include "auth/password.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong hash_count;
static atomic_uint current_cost = PASSWORD_COST_DEFAULT;

static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE];
static unsigned dummy_cost;

unsigned long password_hash_count(void)
{
    return atomic_load(&hash_count);
}

void password_set_cost(unsigned cost)
{
    if (cost < PASSWORD_COST_MIN)
        cost = PASSWORD_COST_MIN;
    if (cost > PASSWORD_COST_MAX)
        cost = PASSWORD_COST_MAX;
    atomic_store(&current_cost, cost);
}

unsigned password_get_cost(void)
{
    return atomic_load(&current_cost);
}

/* crypt_r into out; false if libxcrypt refused (it then returns "*..."). */
static bool run_crypt(const char *password, const char *setting, char *out, size_t size)
{
    struct crypt_data *cd = xcalloc(1, sizeof(*cd));
    atomic_fetch_add(&hash_count, 1);
    const char *h = crypt_r(password, setting, cd);
    bool ok = h != NULL && h[0] == '$' && str_copy(out, size, h);
    OPENSSL_cleanse(cd, sizeof(*cd));
    free(cd);
    return ok;
}

static bool make_setting(unsigned cost, char out[CRYPT_GENSALT_OUTPUT_SIZE])
{
    /* NULL random bytes: libxcrypt reads the system's CSPRNG itself. */
    return crypt_gensalt_rn("$y$", cost, NULL, 0, out, CRYPT_GENSALT_OUTPUT_SIZE) != NULL &&
           out[0] == '$';
}

bool password_hash(const char *password, char out[PASSWORD_HASH_MAX], const char **why)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (strlen(password) > PASSWORD_MAX) {
        *why = "password too long";
        return false;
    }
    if (!make_setting(password_get_cost(), setting)) {
        *why = "cannot make a yescrypt salt";
        return false;
    }
    if (!run_crypt(password, setting, out, PASSWORD_HASH_MAX)) {
        *why = "yescrypt hashing failed";
        return false;
    }
    return true;
}

bool password_verify(const char *password, const char *hash)
{
    char computed[PASSWORD_HASH_MAX];
    if (hash[0] != '$' || strlen(password) > PASSWORD_MAX) {
        password_verify_dummy(password);
        return false;
    }
    bool ok = run_crypt(password, hash, computed, sizeof(computed));
    size_t n = strlen(hash);
    ok = ok && strlen(computed) == n && CRYPTO_memcmp(computed, hash, n) == 0;
    OPENSSL_cleanse(computed, sizeof(computed));
    return ok;
}

void password_verify_dummy(const char *password)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE], computed[PASSWORD_HASH_MAX];
    unsigned cost = password_get_cost();
    pthread_mutex_lock(&dummy_lock);
    if (dummy_cost != cost || dummy_setting[0] == '\0') {
        if (!make_setting(cost, dummy_setting))
            dummy_setting[0] = '\0';
        dummy_cost = cost;
    }
    memcpy(setting, dummy_setting, sizeof(setting));
    pthread_mutex_unlock(&dummy_lock);
    /* A fresh setting has no hash part, so nothing can match it. */
    if (setting[0] == '$')
        run_crypt(strlen(password) > PASSWORD_MAX ? "" : password, setting, computed,
                  sizeof(computed));
    OPENSSL_cleanse(computed, sizeof(computed));
}
