/*
 * Base64 (RFC 4648 section 4, the standard alphabet with "=" padding), as
 * SMTP AUTH (RFC 4954) and SCRAM (RFC 5802) use it.
 *
 * Decoding is strict on purpose: the input must be a whole number of
 * four-character groups from the alphabet, padding may appear only at the
 * end (at most two "="), and the bits a padded group leaves unused must be
 * zero (RFC 4648 section 3.5), so every byte string has exactly one
 * accepted encoding. Whitespace, line breaks and the URL-safe alphabet are
 * errors. An empty input decodes to no bytes (SMTP's "=" for an empty
 * response is the caller's business).
 */
#ifndef GATEPOST_BASE_BASE64_H
#define GATEPOST_BASE_BASE64_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes (no terminator); SIZE_MAX on overflow. */
size_t base64_encoded_len(size_t n);
/* Upper bound of the bytes that n characters decode to. */
size_t base64_decoded_max(size_t n);

/* Appends the encoding of data to out; false (out unchanged) past out's cap. */
bool base64_encode(const void *data, size_t len, struct buf *out);
/* Writes the encoding and a NUL into out, which holds base64_encoded_len(len) + 1. */
void base64_encode_to(const void *data, size_t len, char *out);

/*
 * Appends the bytes text decodes to; false (out unchanged) when text is not
 * strict base64 or the result would pass out's cap.
 */
bool base64_decode(const char *text, size_t len, struct buf *out);
/* Same into a fixed array of cap bytes; *out_len gets the decoded length. */
bool base64_decode_to(const char *text, size_t len, uint8_t *out, size_t cap,
                      size_t *out_len);

#endif
