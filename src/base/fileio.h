/*
 * File helpers with the error handling done once: full writes that retry
 * short writes and EINTR, directory creation, whole-file reads for
 * configuration, and the safe-replace sequence (temp file, write, fsync,
 * rename, fsync directory) that makes a file's new contents durable.
 */
#ifndef GATEPOST_BASE_FILEIO_H
#define GATEPOST_BASE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all n bytes; false with errno set on failure. */
bool fileio_write_all(int fd, const void *p, size_t n);
/* Creates path and missing parents with mode; true if it exists already. */
bool fileio_mkdirs(const char *path, mode_t mode);
/* fsync(2) of a directory by path. */
bool fileio_sync_dir(const char *path);
/* Reads a whole file (at most max bytes) into a NUL-terminated string. */
char *fileio_read(const char *path, size_t max, size_t *len);
/* Replaces path atomically and durably with the given contents. */
bool fileio_replace(const char *path, const void *p, size_t n, mode_t mode);

/*
 * Unnamed files (O_TMPFILE): written without a name, named when complete,
 * gone without a trace if the writer dies first. fileio_open_unnamed
 * creates one in directory dirfd; -1 + errno, where errno satisfies
 * fileio_unnamed_unsupported() if this kernel or file system has none.
 * fileio_link_unnamed gives it the name dirfd/name (never replacing an
 * existing name: EEXIST); false + errno, ENOENT when /proc is missing.
 * fileio_unnamed_nameable says whether it could be named (/proc present).
 */
int fileio_open_unnamed(int dirfd, int flags, mode_t mode);
bool fileio_unnamed_unsupported(int err);
bool fileio_link_unnamed(int fd, int dirfd, const char *name);
bool fileio_unnamed_nameable(int fd);

#endif
