/* redact: masking of registered secrets. */
#include "redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strlist.h"

static struct strlist secrets;

static char *url_encode(const char *s)
{
	struct buf b = BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			buf_putc(&b, (char)*p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

/* The form cJSON prints a string in. */
static char *json_escape(const char *s)
{
	struct buf b = BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': buf_puts(&b, "\\\""); break;
		case '\\': buf_puts(&b, "\\\\"); break;
		case '\b': buf_puts(&b, "\\b"); break;
		case '\f': buf_puts(&b, "\\f"); break;
		case '\n': buf_puts(&b, "\\n"); break;
		case '\r': buf_puts(&b, "\\r"); break;
		case '\t': buf_puts(&b, "\\t"); break;
		default:
			if (*p < 0x20)
				buf_printf(&b, "\\u%04x", *p);
			else
				buf_putc(&b, (char)*p);
		}
	}
	return buf_detach(&b);
}

static void remember(char *form)
{
	for (size_t i = 0; i < secrets.len; i++) {
		if (strcmp(secrets.items[i], form) == 0) {
			free(form);
			return;
		}
	}
	strlist_push(&secrets, form);
	free(form);
}

void redact_add(const char *secret)
{
	if (!secret || strlen(secret) < REDACT_MIN_LEN)
		return;
	remember(xstrdup(secret));
	remember(url_encode(secret));
	remember(json_escape(secret));
}

/* Longest secret first at each position, so a secret that contains another is masked whole. */
static size_t match_at(const char *p)
{
	size_t best = 0;
	for (size_t i = 0; i < secrets.len; i++) {
		size_t n = strlen(secrets.items[i]);
		if (n > best && strncmp(p, secrets.items[i], n) == 0)
			best = n;
	}
	return best;
}

char *redact_dup(const char *text)
{
	if (secrets.len == 0)
		return xstrdup(text);
	struct buf b = BUF_INIT;
	for (const char *p = text; *p;) {
		size_t n = match_at(p);
		if (n) {
			buf_puts(&b, "***");
			p += n;
		} else {
			buf_putc(&b, *p++);
		}
	}
	return buf_detach(&b);
}

void redact_clear(void)
{
	strlist_free(&secrets);
}
