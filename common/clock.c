/* clock: monotonic durations. */
#include "clock.h"

struct timespec clock_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

double clock_ms_since(const struct timespec *start)
{
	struct timespec now = clock_now();
	return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

long clock_ms(void)
{
	struct timespec t = clock_now();
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
