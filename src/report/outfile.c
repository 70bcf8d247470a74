/* outfile: see include/report/outfile.h. */
#include "report/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p of the folders above path. */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) {
        snprintf(err, errlen, "%.200s...: path too long", path);
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create folder %s: %s", path, buf, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

FILE *outfile_open(const char *path, bool append, char *err, size_t errlen)
{
    if (make_parents(path, err, errlen) != 0)
        return NULL;
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        if (errno == ELOOP)
            snprintf(err, errlen, "%s: is a symbolic link; refusing to write through it", path);
        else
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, append ? "a" : "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int outfile_rewind(FILE *f)
{
    if (fflush(f) != 0)
        return -1;
    rewind(f);
    return ftruncate(fileno(f), 0);
}
