/*
 * A credential store for mechanism tests: a fixed table of users with
 * plain passwords, from which it derives SCRAM keys (with a given salt)
 * and CRAM-MD5 state on demand, like a real store would have stored them.
 * Unknown users get fixed fake secrets and CRED_NO_USER.
 */
#ifndef GATEPOST_TESTS_FAKE_STORE_H
#define GATEPOST_TESTS_FAKE_STORE_H

#include "auth/credstore.h"
#include "auth/mech.h"

struct fake_user {
    const char *name;
    const char *password;
    const char *salt_b64;       /* SCRAM salt */
    unsigned iterations;
    bool cram_md5;
    bool not_allowed;
};

struct fake_store {
    struct cred_store pub;
    const struct fake_user *users;
    size_t nusers;
    bool tempfail;
    int calls;
};

void fake_store_init(struct fake_store *fs, const struct fake_user *users, size_t n);

/* A request for fs with a realm (may be ""). */
struct mech_request fake_request(struct fake_store *fs, const char *realm);

/* Runs one step; returns the status and copies the challenge (NUL-terminated). */
enum mech_status fake_step(const struct mech_ops *ops, struct mech_exchange *x, const char *data,
                           size_t len, bool has_data, char *challenge, size_t size,
                           struct mech_result *res);

#endif
