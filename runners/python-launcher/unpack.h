/* unpack: a .tar or .tar.gz (gzip found by its magic, inflated with zlib) into a folder, through
 * the checks of tar.h. Either from a file, or fed chunk by chunk while it downloads: a thread
 * then extracts from a socket pair, so inflating and writing files overlap the transfer. */
#ifndef PL_UNPACK_H
#define PL_UNPACK_H

#include <stddef.h>

#include "tar.h"

/* Extract the archive read from fd into the folder dir. Returns 0, or -1 with err filled. */
int unpack_fd(int fd, const char *dir, const struct tar_limits *lim, char *err, size_t errlen);

struct unpack_stream;

/* Start extracting into dir whatever unpack_stream_feed() receives. Returns NULL with err filled. */
struct unpack_stream *unpack_stream_start(const char *dir, const struct tar_limits *lim, char *err, size_t errlen);
/* Hand over the next bytes (ctx is the stream): 0, or -1 once the extraction failed. */
int unpack_stream_feed(void *ctx, const void *data, size_t len);
/* The download starts again: drop what was extracted and start over, same folder. */
void unpack_stream_restart(void *ctx);
/* The input is complete: wait for the extraction and free the stream. Returns 0, or -1 with err. */
int unpack_stream_finish(struct unpack_stream *s, char *err, size_t errlen);

#endif
