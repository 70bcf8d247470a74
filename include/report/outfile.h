/* outfile: opening the files a user asked hopper to write.
 *
 * Missing folders in the path are created (mode 0755). The file itself is
 * created with mode 0644 and opened with O_NOFOLLOW, so a symbolic link
 * planted where a report is expected is refused rather than followed. Called
 * before the test starts, so that a file that cannot be written is an error
 * before any load is sent. */
#ifndef HOPPER_OUTFILE_H
#define HOPPER_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Opens path for writing (append: keep what is there). Returns the stream, or
 * NULL with "PATH: reason" in err. */
FILE *outfile_open(const char *path, bool append, char *err, size_t errlen);

/* Empties an open file and rewinds it, for files rewritten in place. */
int outfile_rewind(FILE *f);

#endif
