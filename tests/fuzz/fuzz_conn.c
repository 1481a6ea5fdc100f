/* libFuzzer target: Airflow connection parsing (URI and JSON forms, conn.h).
 * Checks the parser's promises besides memory safety: a parsed connection has its fields set, a
 * port in range and an object extra; errors are short and never contain the password. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conn.h"
#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The password as a URI's userinfo spells it: an error must not repeat it. */
static void check_error(const char *text, const char *err)
{
	if (strlen(err) == 0 || strlen(err) > 300)
		abort();
	const char *start = text + strspn(text, " \t\n\r\f\v");
	const char *at = strrchr(text, '@'), *colon = strstr(text, "://");
	if (*start == '{' || !at || !colon || at < colon)
		return; /* the JSON form may name an unknown key, never a value */
	const char *pw = memchr(colon + 3, ':', (size_t)(at - colon - 3));
	if (pw && at - pw > 8) {
		char *raw = xstrndup(pw + 1, (size_t)(at - pw - 1));
		if (!strchr(raw, '/') && strstr(err, raw))
			abort();
		free(raw);
	}
}

static void check_conn(const struct conn *c)
{
	if (!c->conn_type || !c->host || !c->schema || !cJSON_IsObject(c->extra))
		abort();
	if (c->port < -1 || c->port > 65535)
		abort();
	cJSON *j = conn_to_json(c, 0);
	char *text = cJSON_PrintUnformatted(j);
	if (c->password && strlen(c->password) >= REDACT_MIN_LEN) {
		char *masked = redact_dup(c->password);
		if (strcmp(masked, "***") != 0)
			abort();
		free(masked);
	}
	char scratch[64];
	for (const cJSON *e = c->extra->child; e; e = e->next)
		conn_extra_get(c, e->string, scratch, sizeof scratch);
	free(text);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct conn c;
	char err[512];
	if (conn_parse(text, &c, err, sizeof err) == 0) {
		check_conn(&c);
		conn_free(&c);
	} else {
		check_error(text, err);
	}
	/* Both forms directly, whatever the text looks like. */
	if (conn_parse_airflow_uri(text, &c, err, sizeof err) == 0)
		conn_free(&c);
	if (conn_parse_airflow_json(text, &c, err, sizeof err) == 0)
		conn_free(&c);
	redact_clear();
	free(text);
	return 0;
}
