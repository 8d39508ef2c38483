/*
 * Postfix match_list semantics for network and domain lists.
 *
 * Items are read left to right; "!" negates (repeated "!" toggles); the
 * first item that matches decides, and a negated item that matches means
 * "no". Item forms:
 *
 *   192.0.2.0/24 [2001:db8::]/32 192.0.2.1   networks (netlists only)
 *   example.com  .example.com                 names: exact; ".x" = subdomains of x;
 *                                             "x" also subdomains when the
 *                                             parameter is in
 *                                             parent_domain_matches_subdomains
 *   type:table                                a lookup; found (any value) = match
 *   /file/name                                the items in that file
 *
 * A table lookup error makes the whole match an error, never a "no": the
 * caller turns it into a temporary failure.
 *
 * Differences from Postfix: a bad network ("10.0.0.1/8", "300.0.0.0/8") is
 * a compile error (Postfix fails only when a client is matched against
 * it); an IPv6 block may be written without brackets.
 */
#include "policy/matchlist.h"

#include "base/fileio.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static struct ml_item *ml_add(struct matchlist *ml, enum ml_kind kind, bool negate)
{
    if (ml->n == ml->cap) {
        ml->cap = ml->cap ? ml->cap * 2 : 8;
        ml->items = xrealloc(ml->items, ml->cap * sizeof(*ml->items));
    }
    struct ml_item *it = &ml->items[ml->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->negate = negate;
    return it;
}

static void ml_error(struct matchlist *ml, const char *what, const char *detail)
{
    diag_add(ml->diag, DIAG_ERROR, ml->origin, "parameter %s: %s%s", ml->param, what,
             detail ? detail : "");
    ml->errors++;
}

/* Strips '#' comments (to end of line) from list file text, in place. */
static void strip_comments(char *text)
{
    for (char *p = text; *p; p++) {
        if (*p != '#')
            continue;
        while (*p && *p != '\n')
            *p++ = ' ';
        if (*p == '\0')
            break;
    }
}

static void ml_file(struct matchlist *ml, const char *path, bool negate, int depth)
{
    if (depth >= MATCHLIST_FILE_DEPTH) {
        ml_error(ml, "list files nested too deeply at ", path);
        return;
    }
    errno = 0;
    char *text = fileio_read(path, MATCHLIST_FILE_MAX, NULL);
    if (text == NULL) {
        char *msg = xasprintf("open file %s: %s", path,
                              errno == EFBIG ? "file too large" : strerror(errno));
        ml_error(ml, msg, NULL);
        free(msg);
        return;
    }
    strip_comments(text);
    matchlist_parse(ml, text, negate, depth + 1);
    free(text);
}

static void ml_table(struct matchlist *ml, const char *spec, bool negate)
{
    char *why = NULL;
    struct map *m = map_open(spec, MAP_FOLD_CASE, &why);
    if (m == NULL) {
        ml_error(ml, why, NULL);
        free(why);
        return;
    }
    ml_add(ml, ML_TABLE, negate)->table = m;
}

/* "type:name" with a plausible type word ("cidr:", "hash:"), not an IPv6 address. */
static bool looks_like_table(const char *item)
{
    const char *colon = strchr(item, ':');
    if (colon == NULL || colon == item || !isalpha((unsigned char)item[0]))
        return false;
    for (const char *p = item; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    struct netblock b;
    const char *why;
    return !netblock_parse(item, &b, &why);
}

/* Does the item look like an address or network rather than a name? */
static bool looks_like_address(const char *item)
{
    struct netaddr a;
    if (item[0] == '[' || strchr(item, '/') != NULL || netaddr_parse(item, &a))
        return true;
    /* All digits and dots: a mistyped IPv4 address, not a host name. */
    return item[strspn(item, "0123456789.")] == '\0';
}

/* For "192.0.2.1/24": the network "192.0.2.0/24" the writer probably meant. */
static bool masked_block(const char *item, char *out, size_t size)
{
    char addr[NETADDR_TEXT_MAX + 3];
    const char *slash = strrchr(item, '/');
    struct netblock b;
    if (slash == NULL || (size_t)(slash - item) >= sizeof(addr))
        return false;
    memcpy(addr, item, (size_t)(slash - item));
    addr[slash - item] = '\0';
    if (!netaddr_parse(addr, &b.base))
        return false;
    int bits = b.base.family == AF_INET ? 32 : 128;
    b.prefix = atoi(slash + 1);
    if (b.base.family == AF_INET && (addr[0] == '[' || strchr(addr, ':')))
        b.prefix -= 96;
    if (b.prefix < 0 || b.prefix > bits)
        return false;
    for (int i = b.prefix; i < bits; i++)
        b.base.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    netblock_format(&b, out, size);
    return true;
}

static void ml_block(struct matchlist *ml, const char *item, bool negate)
{
    struct netblock b;
    const char *why = NULL;
    if (!netblock_parse(item, &b, &why)) {
        char better[NETADDR_TEXT_MAX + 8];
        char *msg;
        if (strcmp(why, "non-null host address bits") == 0
            && masked_block(item, better, sizeof(better)))
            msg = xasprintf("non-null host address bits in \"%s\", perhaps you should "
                            "use \"%s\" instead", item, better);
        else
            msg = xasprintf("bad network \"%s\": %s", item, why);
        ml_error(ml, msg, NULL);
        free(msg);
        return;
    }
    ml_add(ml, ML_BLOCK, negate)->block = b;
}

static void ml_name(struct matchlist *ml, const char *item, bool negate)
{
    char *name = xstrdup(item);
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        name[n - 1] = '\0';
    str_lower(name);
    ml_add(ml, ML_NAME, negate)->name = name;
}

static void ml_item(struct matchlist *ml, char *item, bool negate, int depth)
{
    while (*item == '!') {
        negate = !negate;
        item++;
    }
    if (*item == '\0') {
        ml_error(ml, "no pattern after '!'", NULL);
        return;
    }
    if (ml->n >= MATCHLIST_ITEMS_MAX) {
        ml_error(ml, "too many items", NULL);
        return;
    }
    if (item[0] == '/')
        ml_file(ml, item, negate, depth);
    else if (looks_like_table(item) || (!ml->networks && strchr(item, ':') != NULL))
        ml_table(ml, item, negate);
    else if (ml->networks && looks_like_address(item))
        ml_block(ml, item, negate);
    else
        ml_name(ml, item, negate);
}

void matchlist_parse(struct matchlist *ml, const char *list, bool negate, int depth)
{
    size_t count = 0;
    char **items = str_list_split(list, STR_LIST_SEPARATORS, &count);
    for (size_t i = 0; i < count && ml->errors < 20; i++)
        ml_item(ml, items[i], negate, depth);
    free(items);
}

void matchlist_clear(struct matchlist *ml)
{
    for (size_t i = 0; i < ml->n; i++) {
        free(ml->items[i].name);
        map_close(ml->items[i].table);
    }
    free(ml->items);
    ml->items = NULL;
    ml->n = ml->cap = 0;
}

bool matchlist_name_matches(const char *pattern, const char *name, bool subdomains)
{
    if (strcasecmp(pattern, name) == 0)
        return true;
    size_t pn = strlen(pattern), nn = strlen(name);
    if (pattern[0] == '.')
        return nn > pn && strcasecmp(name + nn - pn, pattern) == 0;
    return subdomains && nn > pn + 1 && name[nn - pn - 1] == '.'
           && strcasecmp(name + nn - pn, pattern) == 0;
}

/*
 * Looks name up in a table, then its parent domains when the table holds
 * plain keys: "example.com" keys when subdomains match, ".example.com"
 * keys otherwise. 1 found, 0 not, -1 error.
 */
static int table_has_name(const struct ml_item *it, const char *name, bool subdomains)
{
    struct buf v;
    buf_init(&v, 0);
    int result = 0;
    for (const char *entry = name; *entry; ) {
        enum map_status st = map_lookup(it->table, entry, &v);
        if (st != MAP_NOTFOUND) {
            result = st == MAP_FOUND ? 1 : -1;
            break;
        }
        if (map_is_pattern(it->table))
            break;
        const char *next = strchr(entry + 1, '.');
        if (next == NULL)
            break;
        entry = subdomains ? next + 1 : next;
    }
    buf_free(&v);
    return result;
}

static int table_has_key(const struct ml_item *it, const char *key)
{
    struct buf v;
    buf_init(&v, 0);
    enum map_status st = map_lookup(it->table, key, &v);
    buf_free(&v);
    return st == MAP_FOUND ? 1 : st == MAP_NOTFOUND ? 0 : -1;
}

enum match_result matchlist_match_client(const struct matchlist *ml, const struct netaddr *addr,
                                         const char *name)
{
    char text[NETADDR_TEXT_MAX];
    bool named = name != NULL && *name && strcasecmp(name, "unknown") != 0;
    netaddr_format(addr, text, sizeof(text));
    for (size_t i = 0; i < ml->n; i++) {
        const struct ml_item *it = &ml->items[i];
        int hit = 0;
        if (it->kind == ML_BLOCK)
            hit = netblock_contains(&it->block, addr);
        else if (it->kind == ML_NAME)
            hit = named && matchlist_name_matches(it->name, name, ml->subdomains);
        else if ((hit = named ? table_has_name(it, name, ml->subdomains) : 0) == 0)
            hit = table_has_key(it, text);
        if (hit < 0)
            return MATCH_ERROR;
        if (hit)
            return it->negate ? MATCH_NO : MATCH_YES;
    }
    return MATCH_NO;
}

enum match_result matchlist_match_domain(const struct matchlist *ml, const char *domain)
{
    char name[1025];
    size_t n = strlen(domain);
    if (n >= sizeof(name))
        return MATCH_NO;
    memcpy(name, domain, n + 1);
    if (n > 1 && name[n - 1] == '.')
        name[n - 1] = '\0';
    str_lower(name);
    for (size_t i = 0; i < ml->n; i++) {
        const struct ml_item *it = &ml->items[i];
        int hit = 0;
        if (it->kind == ML_NAME)
            hit = matchlist_name_matches(it->name, name, ml->subdomains);
        else if (it->kind == ML_TABLE)
            hit = *name ? table_has_name(it, name, ml->subdomains) : 0;
        if (hit < 0)
            return MATCH_ERROR;
        if (hit)
            return it->negate ? MATCH_NO : MATCH_YES;
    }
    return MATCH_NO;
}
