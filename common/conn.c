/* conn: Airflow connection URI and JSON parsing (see conn.h for the rules). */
#include "conn.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exitcode.h"
#include "redact.h"
#include "secret.h"

/* Python's urlsplit(), the parts Airflow uses. */
struct url {
	char *scheme, *netloc, *path, *query;
};

static void url_free(struct url *u)
{
	free(u->scheme);
	free(u->netloc);
	free(u->path);
	free(u->query);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* urllib.parse.unquote: %XX decoded, anything else (including a bad %) kept as is. */
static char *url_unquote(const char *s, size_t len, bool plus_is_space)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf_putc(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			buf_putc(&b, plus_is_space && s[i] == '+' ? ' ' : s[i]);
		}
	}
	return buf_detach(&b);
}

static bool is_scheme(const char *s, size_t len)
{
	if (len == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+-.", s[i]))
			return false;
	return true;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* urlsplit's _check_bracketed_host: an IPv6 address (with an optional %zone) or an IPvFuture. */
static bool valid_bracketed_host(const char *h, size_t len)
{
	char addr[64];
	if (len > 0 && h[0] == 'v') {
		size_t hex = 1;
		while (hex < len && isxdigit((unsigned char)h[hex]))
			hex++;
		return hex > 1 && hex + 1 < len && h[hex] == '.';
	}
	const char *pct = memchr(h, '%', len);
	size_t addr_len = pct ? (size_t)(pct - h) : len;
	if (pct && (pct + 1 == h + len || memchr(pct + 1, '%', len - addr_len - 1)))
		return false;
	if (addr_len >= sizeof addr)
		return false;
	memcpy(addr, h, addr_len);
	addr[addr_len] = '\0';
	unsigned char bin[16];
	return inet_pton(AF_INET6, addr, bin) == 1;
}

/* urlsplit's checks of a netloc with brackets. */
static int check_netloc(const char *netloc, char *err, size_t errlen)
{
	const char *open = strchr(netloc, '['), *close = strchr(netloc, ']');
	if (!open && !close)
		return 0;
	if (!open || !close)
		return fail(err, errlen, "invalid connection URI: unbalanced '[' ']' in the host (IPv6 address)");
	const char *end = strchr(open, ']');
	if (!end || !valid_bracketed_host(open + 1, (size_t)(end - open - 1)))
		return fail(err, errlen, "invalid connection URI: the host in '[' ']' is not an IPv6 address");
	return 0;
}

static int url_split(const char *url, struct url *u, char *err, size_t errlen)
{
	const char *colon = strchr(url, ':');
	u->scheme = xstrdup("");
	if (colon && is_scheme(url, (size_t)(colon - url))) {
		free(u->scheme);
		u->scheme = xstrndup(url, (size_t)(colon - url));
		for (char *p = u->scheme; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		url = colon + 1;
	}
	u->netloc = xstrdup("");
	if (strncmp(url, "//", 2) == 0) {
		size_t n = strcspn(url + 2, "/?#");
		free(u->netloc);
		u->netloc = xstrndup(url + 2, n);
		url += 2 + n;
	}
	size_t end = strcspn(url, "#"); /* the fragment is dropped */
	const char *q = memchr(url, '?', end);
	u->path = xstrndup(url, q ? (size_t)(q - url) : end);
	u->query = q ? xstrndup(q + 1, end - (size_t)(q - url) - 1) : NULL;
	return check_netloc(u->netloc, err, errlen);
}

/* SplitResult.username/.password: from the userinfo before the last '@'. */
static void netloc_userinfo(const char *netloc, struct conn *c)
{
	const char *at = strrchr(netloc, '@');
	if (!at)
		return;
	const char *colon = memchr(netloc, ':', (size_t)(at - netloc));
	size_t user_len = colon ? (size_t)(colon - netloc) : (size_t)(at - netloc);
	c->login = url_unquote(netloc, user_len, false);
	if (colon)
		c->password = url_unquote(colon + 1, (size_t)(at - colon - 1), false);
}

/* SplitResult.port: digits only, 0..65535; a port that is not a number is an error. */
static int parse_port(const char *s, size_t len, long *port, char *err, size_t errlen)
{
	if (len == 0)
		return 0;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return fail(err, errlen, "the port is not a number");
		v = v * 10 + (s[i] - '0');
		if (v > 65535)
			return fail(err, errlen, "the port is out of range 0-65535");
	}
	*port = v;
	return 0;
}

/* SplitResult.hostname and .port, then Airflow's _parse_netloc_to_hostname: a host that
 * decodes to something with a '/' (a socket folder) is taken from the raw netloc instead. */
static int netloc_host_port(const char *netloc, struct conn *c, char *err, size_t errlen)
{
	const char *at = strrchr(netloc, '@');
	const char *hostinfo = at ? at + 1 : netloc;
	const char *open = strchr(hostinfo, '['), *host = hostinfo, *port = "";
	size_t host_len;
	if (open) {
		const char *close = strchr(open, ']');
		host = open + 1;
		host_len = close ? (size_t)(close - host) : strlen(host);
		const char *pc = close ? strchr(close, ':') : NULL;
		port = pc ? pc + 1 : "";
	} else {
		const char *pc = strchr(hostinfo, ':');
		host_len = pc ? (size_t)(pc - hostinfo) : strlen(hostinfo);
		port = pc ? pc + 1 : "";
	}
	if (parse_port(port, strlen(port), &c->port, err, errlen))
		return -1;
	char *lower = xstrndup(host, host_len);
	for (char *p = lower; *p && *p != '%'; p++)
		*p = (char)tolower((unsigned char)*p);
	c->host = url_unquote(lower, strlen(lower), false);
	free(lower);
	if (strchr(c->host, '/')) {
		free(c->host);
		size_t n = strcspn(hostinfo, ":");
		c->host = url_unquote(hostinfo, n, false);
	}
	return 0;
}

/* parse_qsl(query, keep_blank_values=True) into a dict: later keys replace earlier ones in place. */
static cJSON *parse_query(const char *query)
{
	cJSON *obj = cJSON_CreateObject();
	for (const char *p = query; *p;) {
		size_t n = strcspn(p, "&");
		if (n > 0) {
			const char *eq = memchr(p, '=', n);
			size_t klen = eq ? (size_t)(eq - p) : n;
			char *key = url_unquote(p, klen, true);
			char *val = eq ? url_unquote(eq + 1, n - klen - 1, true) : xstrdup("");
			if (cJSON_GetObjectItemCaseSensitive(obj, key))
				cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(val));
			else
				cJSON_AddItemToObject(obj, key, cJSON_CreateString(val));
			free(key);
			free(val);
		}
		p += n + (p[n] == '&');
	}
	return obj;
}

static char *normalize_conn_type(const char *type)
{
	if (strcmp(type, "postgresql") == 0)
		return xstrdup("postgres");
	char *t = xstrdup(type);
	for (char *p = t; *p; p++)
		if (*p == '-')
			*p = '_';
	return t;
}

/* Python's json.loads keeps the last of repeated keys; cJSON would find the first. */
static void json_last_wins(cJSON *item)
{
	for (cJSON *child = item ? item->child : NULL, *next; child; child = next) {
		next = child->next;
		json_last_wins(child);
		if (!cJSON_IsObject(item))
			continue;
		for (cJSON *later = next; later; later = later->next) {
			if (strcmp(later->string, child->string) == 0) {
				cJSON_Delete(cJSON_DetachItemViaPointer(item, child));
				break;
			}
		}
	}
}

/* Airflow ignores an empty extra (""), as it ignores any falsy one. */
static int set_extra_text(struct conn *c, const char *text, char *err, size_t errlen)
{
	if (!*text)
		return 0;
	cJSON *extra = cJSON_ParseWithOpts(text, NULL, 1);
	json_last_wins(extra);
	if (!cJSON_IsObject(extra)) {
		cJSON_Delete(extra);
		return fail(err, errlen, "the connection's extra is not a JSON object");
	}
	cJSON_Delete(c->extra);
	c->extra = extra;
	return 0;
}

static int apply_query(struct conn *c, const char *query, char *err, size_t errlen)
{
	cJSON *params = parse_query(query);
	cJSON *inner = cJSON_GetObjectItemCaseSensitive(params, "__extra__");
	int rc = 0;
	if (inner) {
		rc = set_extra_text(c, inner->valuestring, err, errlen);
		cJSON_Delete(params);
	} else {
		cJSON_Delete(c->extra);
		c->extra = params;
	}
	return rc;
}

static size_t count_substr(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* str.replace(old, new): every occurrence. */
static char *replace_all(const char *s, const char *old, const char *new)
{
	struct buf b = BUF_INIT;
	size_t olen = strlen(old);
	for (const char *p = s;;) {
		const char *hit = olen ? strstr(p, old) : NULL;
		if (!hit) {
			buf_puts(&b, p);
			break;
		}
		buf_append(&b, p, (size_t)(hit - p));
		buf_puts(&b, new);
		p = hit + olen;
	}
	return buf_detach(&b);
}

static void conn_init(struct conn *c)
{
	memset(c, 0, sizeof *c);
	c->port = -1;
	c->extra = cJSON_CreateObject();
}

/* The part of _parse_from_uri after the conn type: netloc, path and query of rest. */
static int parse_rest(struct conn *c, const char *rest, bool host_with_protocol, char *err, size_t errlen)
{
	struct url u;
	int rc = url_split(rest, &u, err, errlen);
	if (rc == 0)
		rc = netloc_host_port(u.netloc, c, err, errlen);
	if (rc == 0) {
		netloc_userinfo(u.netloc, c);
		if (host_with_protocol && *u.scheme && *c->host) {
			char *h = c->host;
			struct buf b = BUF_INIT;
			buf_printf(&b, "%s://%s", u.scheme, h);
			c->host = buf_detach(&b);
			free(h);
		}
		const char *schema = u.path[0] ? u.path + 1 : u.path;
		c->schema = url_unquote(schema, strlen(schema), false);
		if (u.query && *u.query)
			rc = apply_query(c, u.query, err, errlen);
	}
	url_free(&u);
	return rc;
}

/* What urlsplit does first: drop leading blanks and control characters, and every tab, CR and LF. */
static char *url_clean(const char *uri)
{
	struct buf b = BUF_INIT;
	while (*uri && (unsigned char)*uri <= ' ')
		uri++;
	for (; *uri; uri++)
		if (!strchr("\t\r\n", *uri))
			buf_putc(&b, *uri);
	return buf_detach(&b);
}

static int parse_uri(const char *uri, struct conn *out, char *err, size_t errlen)
{
	size_t schemes = count_substr(uri, "://");
	if (schemes > 2)
		return fail(err, errlen, "invalid connection URI: more than two '://'");
	bool host_with_protocol = schemes == 2;
	struct url first;
	if (url_split(uri, &first, err, errlen))
		return url_free(&first), -1;
	out->conn_type = normalize_conn_type(first.scheme);
	struct buf marker = BUF_INIT;
	buf_printf(&marker, "%s://", first.scheme);
	char *rest = replace_all(uri, buf_str(&marker), host_with_protocol ? "" : "//");
	buf_free(&marker);
	url_free(&first);
	int rc = 0;
	if (host_with_protocol) {
		size_t head = strstr(rest, "://") ? (size_t)(strstr(rest, "://") - rest) : strlen(rest);
		if (memchr(rest, '@', head) || memchr(rest, ':', head))
			rc = fail(err, errlen,
			          "invalid connection URI: a protocol in the host must not hold '@' or ':'");
	}
	if (rc == 0)
		rc = parse_rest(out, rest, host_with_protocol, err, errlen);
	free(rest);
	return rc;
}

int conn_parse_airflow_uri(const char *uri, struct conn *out, char *err, size_t errlen)
{
	conn_init(out);
	char *clean = url_clean(uri);
	int rc = parse_uri(clean, out, err, errlen);
	free(clean);
	if (rc)
		conn_free(out);
	else
		redact_add(out->password);
	return rc;
}

static int json_string_field(const cJSON *obj, const char *key, char **dest, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "the connection's \"%s\" must be a string", key);
		return -1;
	}
	free(*dest);
	*dest = xstrdup(v->valuestring);
	return 0;
}

/* Connection.from_json: a port may be a number or a string of digits. */
static int json_port(const cJSON *obj, long *port, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "port");
	if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
	    (cJSON_IsNumber(v) && v->valuedouble == 0))
		return 0; /* Airflow: `if port:` */
	double d;
	if (cJSON_IsString(v)) {
		char *end;
		long p = strtol(v->valuestring, &end, 10);
		if (*end != '\0')
			return fail(err, errlen, "the connection's \"port\" is not an integer");
		d = (double)p;
	} else if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else {
		return fail(err, errlen, "the connection's \"port\" is not an integer");
	}
	if (!(d >= 0 && d <= 65535)) /* Airflow takes any integer; no server listens there */
		return fail(err, errlen, "the connection's \"port\" is out of range 0-65535");
	if (d != (double)(long)d) /* Airflow truncates 5432.5; we refuse it */
		return fail(err, errlen, "the connection's \"port\" is not an integer");
	*port = (long)d;
	return 0;
}

static int json_extra(const cJSON *obj, struct conn *c, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "extra");
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0) ||
	    (cJSON_IsArray(v) && !v->child))
		return 0; /* Airflow: `if extra:` ("" is handled as text) */
	if (cJSON_IsString(v))
		return set_extra_text(c, v->valuestring, err, errlen);
	if (!cJSON_IsObject(v))
		return fail(err, errlen, "the connection's extra is not a JSON object");
	cJSON_Delete(c->extra);
	c->extra = cJSON_Duplicate(v, 1);
	return 0;
}

static int json_known_keys(const cJSON *obj, char *err, size_t errlen)
{
	static const char *const known[] = { "conn_type", "host",  "login",       "password", "schema",
		                             "port",      "extra", "description", NULL };
	for (const cJSON *f = obj->child; f; f = f->next) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], f->string) != 0)
			i++;
		if (!known[i]) {
			snprintf(err, errlen, "unknown key \"%.64s\" in the connection's JSON", f->string);
			return -1;
		}
	}
	return 0;
}

int conn_parse_airflow_json(const char *json, struct conn *out, char *err, size_t errlen)
{
	conn_init(out);
	cJSON *obj = cJSON_ParseWithOpts(json, NULL, 1);
	json_last_wins(obj);
	int rc = cJSON_IsObject(obj) ? 0 : fail(err, errlen, "the connection's JSON form is not a valid JSON object");
	char *type = NULL;
	if (rc == 0)
		rc = json_known_keys(obj, err, errlen);
	if (rc == 0)
		rc = json_string_field(obj, "conn_type", &type, err, errlen);
	if (rc == 0)
		rc = json_string_field(obj, "host", &out->host, err, errlen);
	if (rc == 0)
		rc = json_string_field(obj, "login", &out->login, err, errlen);
	if (rc == 0)
		rc = json_string_field(obj, "password", &out->password, err, errlen);
	if (rc == 0)
		rc = json_string_field(obj, "schema", &out->schema, err, errlen);
	if (rc == 0)
		rc = json_port(obj, &out->port, err, errlen);
	if (rc == 0)
		rc = json_extra(obj, out, err, errlen);
	out->conn_type = normalize_conn_type(type ? type : "");
	free(type);
	cJSON_Delete(obj);
	if (!out->host)
		out->host = xstrdup("");
	if (!out->schema)
		out->schema = xstrdup("");
	if (rc)
		conn_free(out);
	else
		redact_add(out->password);
	return rc;
}

int conn_parse(const char *text, struct conn *out, char *err, size_t errlen)
{
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '{')
		return conn_parse_airflow_json(text, out, err, errlen);
	struct buf trimmed = BUF_INIT;
	buf_puts(&trimmed, text);
	while (trimmed.len && isspace((unsigned char)trimmed.data[trimmed.len - 1]))
		trimmed.data[--trimmed.len] = '\0';
	int rc = conn_parse_airflow_uri(buf_str(&trimmed), out, err, errlen);
	buf_free(&trimmed);
	return rc;
}

static int load_text(const char *conn_id, const char *conn_file, char **text, struct buf *where, char *err,
                     size_t errlen)
{
	if (conn_file && *conn_file) {
		buf_printf(where, "--conn-file %s", conn_file);
		if (secret_read_file(conn_file, "--conn-file", text, err, errlen))
			return -1;
		redact_add(*text);
		return 0;
	}
	if (!conn_id || !*conn_id)
		return fail(err, errlen,
		            "no connection: pass --conn ID (with AIRFLOW_CONN_<ID> set) or --conn-file PATH");
	buf_puts(where, "AIRFLOW_CONN_");
	for (const char *p = conn_id; *p; p++)
		buf_putc(where, (char)toupper((unsigned char)*p));
	char serr[512];
	if (secret_getenv(buf_str(where), true, text, serr, sizeof serr))
		return fail(err, errlen, serr);
	if (!*text) {
		snprintf(err, errlen, "connection '%s' not found: set %s (Airflow URI or JSON) or %s_FILE", conn_id,
		         buf_str(where), buf_str(where));
		return -1;
	}
	/* Airflow would take "" for a connection to a local socket with defaults: that is never meant. */
	if (!**text) {
		snprintf(err, errlen, "%s is set but empty; give the connection as an Airflow URI or JSON",
		         buf_str(where));
		return -1;
	}
	return 0;
}

int conn_load(const char *conn_id, const char *conn_file, struct conn *out, char *err, size_t errlen)
{
	char *text = NULL, perr[256];
	struct buf where = BUF_INIT;
	int rc = load_text(conn_id, conn_file, &text, &where, err, errlen);
	if (rc == 0 && conn_parse(text, out, perr, sizeof perr)) {
		snprintf(err, errlen, "%s: %s; see Airflow's connection URI/JSON format", buf_str(&where), perr);
		rc = -1;
	}
	free(text);
	buf_free(&where);
	return rc ? TR_EXIT_USAGE : 0;
}

const char *conn_json_scalar(const cJSON *v, char *scratch, size_t scratchlen)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (!cJSON_IsNumber(v))
		return NULL;
	/* The range test comes first: casting a double outside long long's range is undefined. */
	double d = v->valuedouble;
	if (d > -1e18 && d < 1e18 && d == (double)(long long)d)
		snprintf(scratch, scratchlen, "%lld", (long long)d);
	else
		snprintf(scratch, scratchlen, "%.17g", d);
	return scratch;
}

const char *conn_extra_get(const struct conn *c, const char *key, char *scratch, size_t scratchlen)
{
	return conn_json_scalar(cJSON_GetObjectItemCaseSensitive(c->extra, key), scratch, scratchlen);
}

static void add_nullable(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

cJSON *conn_to_json(const struct conn *c, int with_password)
{
	cJSON *obj = cJSON_CreateObject();
	add_nullable(obj, "conn_type", c->conn_type);
	add_nullable(obj, "host", c->host);
	add_nullable(obj, "login", c->login);
	add_nullable(obj, "password", c->password && !with_password ? "***" : c->password);
	add_nullable(obj, "schema", c->schema);
	if (c->port >= 0)
		cJSON_AddNumberToObject(obj, "port", (double)c->port);
	else
		cJSON_AddNullToObject(obj, "port");
	cJSON_AddItemToObject(obj, "extra", cJSON_Duplicate(c->extra, 1));
	return obj;
}

void conn_free(struct conn *c)
{
	free(c->conn_type);
	free(c->host);
	free(c->login);
	free(c->password);
	free(c->schema);
	cJSON_Delete(c->extra);
	memset(c, 0, sizeof *c);
	c->port = -1;
}
