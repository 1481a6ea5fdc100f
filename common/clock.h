/* clock: monotonic time for durations (statement timings, run time, deadlines). */
#ifndef TR_CLOCK_H
#define TR_CLOCK_H

#include <time.h>

struct timespec clock_now(void);
/* Milliseconds on the monotonic clock: the unit of deadlines (clock_ms() + timeout). */
long clock_ms(void);
/* Milliseconds elapsed since start. */
double clock_ms_since(const struct timespec *start);

#endif
