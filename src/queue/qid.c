/* Queue ID generation and checks; see qid.h. */
#include "queue/qid.h"

#include <string.h>
#include <unistd.h>

static const char digits36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

bool queue_id_tag_valid(char c)
{
    return digit_value(c) >= 0;
}

void queue_id_gen_init(struct queue_id_gen *g, char tag)
{
    g->last_us = -1;
    if (tag >= 'a' && tag <= 'z')
        tag = (char)(tag - 'a' + 'A');
    g->tag = queue_id_tag_valid(tag) ? tag : '0';
    /* The process ID in base 36, most significant digit first. */
    char rev[QUEUE_ID_PID_MAX_DIGITS];
    unsigned long pid = (unsigned long)getpid();
    size_t n = 0;
    do {
        rev[n++] = digits36[pid % 36];
        pid /= 36;
    } while (pid > 0 && n < QUEUE_ID_PID_MAX_DIGITS);
    for (size_t i = 0; i < n; i++)
        g->pid[i] = rev[n - 1 - i];
    g->pid[n] = '\0';
}

void queue_id_next(struct queue_id_gen *g, int64_t now_us, char out[QUEUE_ID_SIZE])
{
    int64_t t = now_us - QUEUE_ID_EPOCH_US;
    if (t < 0)
        t = 0;                      /* clock before 2020: still unique via last_us */
    if (t <= g->last_us)
        t = g->last_us + 1;
    g->last_us = t;
    uint64_t v = (uint64_t)t;
    for (int i = QUEUE_ID_TIME_DIGITS - 1; i >= 0; i--) {
        out[i] = digits36[v % 36];
        v /= 36;
    }
    out[QUEUE_ID_TIME_DIGITS] = g->tag;
    memcpy(out + QUEUE_ID_TIME_DIGITS + 1, g->pid, strlen(g->pid) + 1);
}

bool queue_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (n >= QUEUE_ID_SIZE - 1 || digit_value(s[n]) < 0)
            return false;
    return n > 0;
}

int64_t queue_id_time_us(const char *id)
{
    size_t len = strlen(id);
    if (!queue_id_valid(id) || len < QUEUE_ID_TIME_DIGITS + 2 ||
        len > QUEUE_ID_TIME_DIGITS + 1 + QUEUE_ID_PID_MAX_DIGITS)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < QUEUE_ID_TIME_DIGITS; i++)
        v = v * 36 + digit_value(id[i]);
    return v + QUEUE_ID_EPOCH_US;
}
