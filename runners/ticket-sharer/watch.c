/* watch: sleep until a stop signal, a change in the source's folder (inotify) or a timeout.
 *
 * The folder is watched, not the file: kinit and most tools replace a cache by renaming a new
 * file over it, and a bind-mounted folder sees that while a bind-mounted file would not. Events
 * for other files in the folder of a FILE: source are ignored. When the folder does not exist
 * yet (or was removed), watch_update() adds the watch on a later round. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sharer.h"
#include "signals.h"

#define WATCH_MASK                                                                                                     \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |           \
	 IN_MOVE_SELF)

static int ifd = -1, wd = -1;
static char only[256]; /* the file name events must be about; "" for any */

void watch_update(const struct source *s)
{
	if (ifd < 0)
		ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0 || wd >= 0)
		return;
	wd = inotify_add_watch(ifd, s->watch, WATCH_MASK | IN_ONLYDIR);
	if (wd >= 0)
		log_debug("watch", "watching %s for changes", s->watch);
	snprintf(only, sizeof only, "%s", s->kind == SRC_FILE ? s->name : "");
}

void watch_close(void)
{
	if (ifd >= 0)
		close(ifd);
	ifd = wd = -1;
}

/* Read what is queued; 1 when an event concerns the source. */
static int drain(void)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0;
	ssize_t n;
	while ((n = read(ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) {
				relevant = 1;
				if (ev->mask & IN_IGNORED)
					wd = -1; /* the folder went away: watch_update() re-adds it */
			} else if (!*only || (ev->len && strcmp(ev->name, only) == 0)) {
				relevant = 1;
			}
			p += sizeof *ev + ev->len;
		}
	}
	return relevant;
}

/* Wait for inotify (when watching), a stop signal or the deadline: 1 for readable inotify, 0 for
 * the deadline, -1 for a stop. */
static int wait_fds(long deadline)
{
	switch (sig_wait_fd(wd >= 0 ? ifd : -1, POLLIN, deadline, false)) {
	case SIG_WAKE_READY: return 1;
	case SIG_WAKE_STOP: return -1;
	default: return 0;
	}
}

enum wake watch_wait(long timeout_ms, long settle_ms)
{
	long deadline = clock_ms() + timeout_ms;
	for (;;) {
		if (clock_ms() >= deadline)
			return WAKE_TIMEOUT;
		int r = wait_fds(deadline);
		if (r < 0)
			return WAKE_STOP;
		if (r == 1 && drain()) {
			/* let the writer finish (kinit writes a cache in several steps), then re-check */
			for (int i = 0; i < 20 && settle_ms > 0 && (r = wait_fds(clock_ms() + settle_ms)) == 1; i++)
				drain();
			return r < 0 ? WAKE_STOP : WAKE_CHANGE;
		}
	}
}
