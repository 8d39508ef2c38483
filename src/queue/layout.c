/* Queue directory creation and opening; see layout.h. */
#include "queue/layout.h"

#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
