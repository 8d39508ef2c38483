/*
 * Private to the queue file code (qfile.c, qfile_read.c): byte-order
 * helpers and the table of string fields shared by encoder and decoder.
 */
#ifndef GATEPOST_QUEUE_QFILE_INT_H
#define GATEPOST_QUEUE_QFILE_INT_H

#include "queue/envelope.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QFILE_MAGIC "GPQUEUE\n"
#define QFILE_END_MAGIC "GPQ-END\n"
#define QFILE_MAGIC_LEN 8

/* Record types (see qfile.h). */
enum {
    QREC_ID = 'I',
    QREC_TIME = 'T',
    QREC_SENDER = 'S',
    QREC_FLAGS = 'F',
    QREC_RCPT = 'R',
};
#define QREC_RCPT_FIXED 8           /* status, notify, has_orcpt, 0, u32 orcpt length */

/* Optional string fields: lower-case record type -> envelope member. */
struct qfile_string_field {
    char type;
    size_t offset;                  /* of a char * in struct queue_envelope */
    const char *name;               /* for error messages */
};
extern const struct qfile_string_field qfile_string_fields[];
extern const size_t qfile_string_field_count;

static inline char **qfile_field_ptr(struct queue_envelope *env,
                                     const struct qfile_string_field *f)
{
    return (char **)((char *)env + f->offset);
}

static inline void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#endif
