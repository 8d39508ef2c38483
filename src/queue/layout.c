/* Queue directory creation and opening; see layout.h. */
#include "queue/layout.h"

#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries looked at by one tmp/ clean-up (far more than writers ever leave). */
#define CLEAN_TMP_MAX_ENTRIES 10000000L

static const char *const subdirs[] = {
    QUEUE_DIR_TMP, QUEUE_DIR_INCOMING, QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFERRED,
    QUEUE_DIR_CORRUPT, QUEUE_DIR_PRIVATE,
};

bool queue_layout_create(const char *queue_dir, struct buf *why)
{
    if (!fileio_mkdirs(queue_dir, 0700)) {
        buf_printf(why, "create %s: %s", queue_dir, strerror(errno));
        return false;
    }
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", queue_dir, subdirs[i]) >= (int)sizeof(path)) {
            buf_printf(why, "queue directory name too long: %s", queue_dir);
            return false;
        }
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            buf_printf(why, "create %s: %s", path, strerror(errno));
            return false;
        }
    }
    return true;
}

int queue_layout_open(const char *queue_dir, const char *sub)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", queue_dir, sub) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

long queue_layout_clean_tmp(const char *queue_dir)
{
    int dfd = queue_layout_open(queue_dir, QUEUE_DIR_TMP);
    if (dfd < 0)
        return -1;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int saved = errno;
        close(dfd);
        errno = saved;
        return -1;
    }
    long removed = 0;
    struct dirent *e;
    for (long seen = 0; seen < CLEAN_TMP_MAX_ENTRIES && (e = readdir(d)) != NULL; seen++) {
        if (e->d_name[0] == '.')
            continue;
        if (unlinkat(dfd, e->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
