/* redact: the one place where secrets are masked. Every log line and every result line passes
 * through redact_dup() before it is written, so a secret registered here is never printed. */
#ifndef TR_REDACT_H
#define TR_REDACT_H

/* Remember a secret. Its raw, URL-encoded and JSON-escaped forms are all masked. Secrets shorter
 * than REDACT_MIN_LEN are not masked, because masking "a" would make every line unreadable. */
#define REDACT_MIN_LEN 4
void redact_add(const char *secret);

/* A copy of text with every registered secret replaced by "***". The caller frees it. */
char *redact_dup(const char *text);

/* Forget every secret (tests). */
void redact_clear(void);

#endif
