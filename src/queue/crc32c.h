/*
 * CRC-32C (Castagnoli), the checksum in queue file end markers. It detects
 * torn and bit-flipped files; it is not a defence against an attacker, who
 * could not write into the queue directory anyway.
 *
 * Uses the SSE 4.2 instruction when the CPU has it, else a table-driven
 * software version (slicing by 8) with the same results.
 */
#ifndef GATEPOST_QUEUE_CRC32C_H
#define GATEPOST_QUEUE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Start with crc = 0; feed pieces in order; the result is the final CRC. */
uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);
/* The table-driven version alone (tests compare it with the fast path). */
uint32_t crc32c_update_sw(uint32_t crc, const void *p, size_t n);

#endif
