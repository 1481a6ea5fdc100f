/* http: download one URL to a file with libcurl over mbedTLS, the way every runner should.
 *
 * TLS is verified against the image's CA bundle (/etc/ssl/certs/ca-certificates.crt) or the one
 * given; the proxy environment (https_proxy, no_proxy, ...) is honoured by libcurl. Connect
 * errors, timeouts, dropped transfers, 408, 429 and 5xx are retried with exponential backoff
 * (Retry-After honoured up to a minute); when the attempts run out the result is 75. 404/410 and
 * other 4xx are 2, 401/403 are 3. The body streams into the caller's file while its SHA-256 is
 * computed; a body over the size cap is 2. A bearer token goes through libcurl's own bearer
 * support (never sent to another host after a redirect). Credentials and query strings never
 * reach the log: URLs are shown without them. */
#ifndef TR_HTTP_H
#define TR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_opts {
	const char *cacert;      /* CA bundle file; NULL: the image's */
	const char *token;       /* bearer token, NULL for none */
	bool allow_http;         /* plain http:// (and redirects to it) allowed */
	long connect_timeout_ms; /* per attempt; 0: 10 s */
	long timeout_ms;         /* a whole attempt; 0: none */
	int retries;             /* extra attempts after the first */
	long backoff_ms;         /* first delay between attempts, doubled each time; 0: 500 ms */
	uint64_t max_size;       /* bytes; 0: no cap */
	/* Optional: a consumer that sees the body as it arrives, next to the file (an unpacker
	 * working while the download runs). on_data returns 0, or -1 to stop the download (it then
	 * ends as TR_EXIT_USAGE: the consumer refused the data); on_restart runs before a retry. */
	int (*on_data)(void *ctx, const void *data, size_t len);
	void (*on_restart)(void *ctx);
	void *ctx;
};

struct http_result {
	uint64_t bytes;
	unsigned char sha256[32];
	long status; /* the last HTTP status, 0 when none came */
	int attempts;
};

/* Download url into fd (a regular file, truncated before each attempt). Returns TR_EXIT_OK,
 * TR_EXIT_USAGE, TR_EXIT_AUTH, TR_EXIT_TEMPFAIL, or 128+N when a stop signal arrived (see
 * signals.h), with err filled on failure. */
int http_download(const char *url, int fd, const struct http_opts *opts, struct http_result *res, char *err,
                  size_t errlen);

/* The URL as logs may show it: without user, password and query. The caller frees it. */
char *http_display_url(const char *url);

/* "https", "http", "file", ... : the scheme in lower case, "" when there is none. */
void http_scheme(const char *url, char *out, size_t outlen);

#endif
