/*
 * The queue file format. One file per message, written once by the queue
 * writer and afterwards changed only in place by the queue manager (a
 * recipient's status byte, the retry schedule), each with one pwrite.
 *
 *   offset 0        header, 64 bytes:
 *                     0  magic "GPQUEUE\n"
 *                     8  u16 version (1)       10 u16 header size (64)
 *                    12  u32 flags (0)
 *                    16  i64 next attempt (us)  24 u32 attempts
 *                    28  u32 backoff (s)        32..63 zero
 *   64              content: the message, LF line endings, as received
 *   64 + C          envelope: records  [u8 type][u32 length][payload]
 *   end - 32        end marker, 32 bytes:
 *                     0  magic "GPQ-END\n"
 *                     8  u64 content size C     16 u32 envelope size E
 *                    20  u32 CRC-32C of the content
 *                    24  u32 CRC-32C of the envelope (status bytes read as 'P')
 *                    28  u32 CRC-32C of end-marker bytes 0..27
 *
 * All integers are little-endian. Bytes 16..31 of the header (the retry
 * schedule) and the recipient status bytes are the only mutable bytes and
 * are outside every checksum; a torn schedule write is harmless (the
 * queue manager clamps it). A file that is truncated, extended, or damaged
 * anywhere else fails to load with a message saying what is wrong.
 *
 * Record types: an upper-case type must be understood by the reader
 * (unknown ones are errors), a lower-case type may be skipped, so later
 * versions can add optional facts without breaking older readers.
 *   I queue id   T arrival time (i64 us)   S sender   F flags (smtputf8,
 *   body type, DSN RET: one byte each)   R recipient: status, notify, has
 *   ORCPT (one byte each), one zero byte, u32 ORCPT length, ORCPT, address
 *   c client name  a client address  h helo  p protocol  m SASL method
 *   u SASL username  i Message-ID  e DSN ENVID
 * Strings are stored without terminator and may not contain NUL.
 */
#ifndef GATEPOST_QUEUE_QFILE_H
#define GATEPOST_QUEUE_QFILE_H

#include "base/buf.h"
#include "queue/envelope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QFILE_VERSION 1
#define QFILE_HEADER_SIZE 64
#define QFILE_TRAILER_SIZE 32
#define QFILE_SCHED_OFFSET 16
#define QFILE_SCHED_SIZE 16
#define QFILE_RECORD_HEADER 5
#define QFILE_MAX_ENVELOPE (16u << 20)  /* bytes of envelope records */
#define QFILE_MAX_STRING 65536u         /* any one string field */

struct qfile_error {
    char text[200];
};

/* What the reader learned besides the envelope. */
struct qfile_info {
    uint64_t file_size;
    uint64_t content_offset;        /* always QFILE_HEADER_SIZE in version 1 */
    uint64_t content_size;
    int64_t next_attempt_us;        /* 0: never deferred */
    uint32_t attempts;              /* delivery rounds that ended deferred */
    uint32_t backoff_s;             /* the last backoff used */
    int64_t mtime_us;               /* the file's last change (qfile_load; 0 = unknown) */
};

/* Writer side. */

/* The initial header (schedule zero). */
void qfile_header(unsigned char out[QFILE_HEADER_SIZE]);
/*
 * Appends the envelope records and the end marker for a file whose content
 * (content_size bytes, CRC content_crc) is already written or buffered.
 * False (nothing appended) if the envelope cannot be stored: no sender,
 * no recipients, an invalid queue ID, a string too long, or records over
 * QFILE_MAX_ENVELOPE.
 */
bool qfile_append_envelope(struct buf *out, const struct queue_envelope *env,
                           uint64_t content_size, uint32_t content_crc);

/* Reader side. */

/*
 * Parses a complete file held in memory. On success env is filled (owned
 * strings; free with queue_envelope_free), each recipient's status_offset
 * set, env->content_size set; on failure env is left empty and err says
 * why. expect_id (the file name) must match the stored ID unless NULL.
 */
bool qfile_parse(const void *data, size_t len, const char *expect_id,
                 struct queue_envelope *env, struct qfile_info *info,
                 struct qfile_error *err);
/* The same for an open file, read with pread (files of any size). */
bool qfile_load(int fd, const char *expect_id, struct queue_envelope *env,
                struct qfile_info *info, struct qfile_error *err);

/* In-place updates by the queue manager (one pwrite each; false + errno). */
bool qfile_mark_done(int fd, uint64_t status_offset);
bool qfile_write_schedule(int fd, int64_t next_attempt_us, uint32_t attempts,
                          uint32_t backoff_s);

#endif
