/* http: libcurl downloads with retries, classification, streaming SHA-256 and a size cap. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"
#include "signals.h"

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define PROGRESS_EVERY_S  5
#define RETRY_AFTER_MAX_S 60

struct transfer {
	CURL *curl;
	int fd;
	uint64_t bytes, max_size;
	mbedtls_sha256_context sha;
	bool too_big, write_failed, refused;
	const struct http_opts *opts;
	time_t last_progress;
	const char *shown; /* the URL for logs */
};

void http_scheme(const char *url, char *out, size_t outlen)
{
	size_t n = strcspn(url, ":");
	if (!url[n] || n + 1 > outlen)
		n = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)url[i]);
	out[n] = '\0';
}

char *http_display_url(const char *url)
{
	CURLU *u = curl_url();
	char *shown = NULL, *copy;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_get(u, CURLUPART_URL, &shown, 0);
	}
	curl_url_cleanup(u);
	copy = strdup(shown ? shown : "(unparseable URL)");
	curl_free(shown);
	return copy;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct transfer *t = userp;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return len; /* an error page is not the file */
	if (t->max_size && t->bytes + len > t->max_size) {
		t->too_big = true;
		return 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t k = write(t->fd, data + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			t->write_failed = true;
			return 0;
		}
		off += (size_t)k;
	}
	mbedtls_sha256_update(&t->sha, (const unsigned char *)data, len);
	t->bytes += len;
	if (t->opts->on_data && t->opts->on_data(t->opts->ctx, data, len) < 0) {
		t->refused = true;
		return 0;
	}
	return len;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ultotal;
	(void)ulnow;
	struct transfer *t = userp;
	if (sig_caught())
		return 1; /* abort: the run is being stopped */
	time_t now = time(NULL);
	if (now - t->last_progress >= PROGRESS_EVERY_S) {
		t->last_progress = now;
		log_info("download_progress", "%s: %lld of %lld bytes", t->shown, (long long)dlnow, (long long)dltotal);
	}
	return 0;
}

static void set_options(struct transfer *t, const char *url, const struct http_opts *o)
{
	CURL *c = t->curl;
	const char *protocols = o->allow_http ? "https,http" : "https";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert ? o->cacert : DEFAULT_CA_BUNDLE);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 0L);
	/* a stalled transfer is a dropped one: under 1 byte/s for 30 s */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	if (o->max_size)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
	if (o->token) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, o->token);
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tinyrun");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

/* What an attempt's outcome means: TR_EXIT_OK, a permanent code, or TR_EXIT_TEMPFAIL to retry. */
static int classify(const struct transfer *t, CURLcode cc, long status, const char *cerr, char *err, size_t errlen)
{
	if (sig_caught()) {
		snprintf(err, errlen, "stopped by signal %d", sig_caught());
		return sig_exit_code();
	}
	if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "%s is larger than the limit of %llu bytes", t->shown,
		         (unsigned long long)t->max_size);
		return TR_EXIT_USAGE;
	}
	if (t->refused) {
		snprintf(err, errlen, "%s: the data was refused while it arrived", t->shown);
		return TR_EXIT_USAGE;
	}
	if (t->write_failed) {
		snprintf(err, errlen, "cannot write the download: %s", strerror(errno));
		return TR_EXIT_FAILED;
	}
	if (cc == CURLE_OK && status >= 200 && status <= 299)
		return TR_EXIT_OK;
	if (cc == CURLE_OK) {
		snprintf(err, errlen, "%s: HTTP %ld", t->shown, status);
		if (status == 401 || status == 403)
			return TR_EXIT_AUTH;
		return status == 408 || status == 429 || status >= 500 ? TR_EXIT_TEMPFAIL : TR_EXIT_USAGE;
	}
	snprintf(err, errlen, "%s: %s", t->shown, cerr[0] ? cerr : curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_LOGIN_DENIED: return TR_EXIT_USAGE;
	default: return TR_EXIT_TEMPFAIL; /* connect, resolve, timeout, reset, partial file, TLS */
	}
}

static int attempt(struct transfer *t, char *err, size_t errlen, long *status, long *retry_after)
{
	char cerr[CURL_ERROR_SIZE] = "";
	if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot reset the download file: %s", strerror(errno));
		return TR_EXIT_FAILED;
	}
	t->bytes = 0;
	t->too_big = t->write_failed = t->refused = false;
	mbedtls_sha256_free(&t->sha);
	mbedtls_sha256_init(&t->sha);
	mbedtls_sha256_starts(&t->sha, 0);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, cerr);
	CURLcode cc = curl_easy_perform(t->curl);
	*status = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, status);
	curl_off_t ra = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RETRY_AFTER, &ra);
	*retry_after = ra > 0 && ra <= RETRY_AFTER_MAX_S ? (long)ra * 1000 : 0;
	return classify(t, cc, *status, cerr, err, errlen);
}

int http_download(const char *url, int fd, const struct http_opts *opts, struct http_result *res, char *err,
                  size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct transfer t = { .fd = fd, .max_size = opts->max_size, .last_progress = time(NULL), .opts = opts };
	char *shown = http_display_url(url);
	t.shown = shown;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t.curl = curl_easy_init();
	mbedtls_sha256_init(&t.sha);
	int rc = TR_EXIT_FAILED;
	if (!t.curl)
		snprintf(err, errlen, "cannot start libcurl");
	else
		set_options(&t, url, opts);
	long delay = opts->backoff_ms > 0 ? opts->backoff_ms : 500;
	while (t.curl) {
		long status = 0, retry_after = 0;
		if (res->attempts++ && opts->on_restart)
			opts->on_restart(opts->ctx);
		rc = attempt(&t, err, errlen, &status, &retry_after);
		res->status = status;
		if (rc != TR_EXIT_TEMPFAIL || res->attempts > opts->retries)
			break;
		long wait = retry_after > delay ? retry_after : delay;
		log_warn("download_retry", "%s; attempt %d of %d, next in %ld ms", err, res->attempts,
		         opts->retries + 1, wait);
		sig_wait_fd(-1, 0, clock_ms() + wait, false); /* a stop signal ends the backoff at once */
		delay *= 2;
		if (sig_caught()) {
			snprintf(err, errlen, "stopped by signal %d", sig_caught());
			rc = sig_exit_code();
			break;
		}
	}
	res->bytes = t.bytes;
	if (rc == TR_EXIT_OK)
		mbedtls_sha256_finish(&t.sha, res->sha256);
	mbedtls_sha256_free(&t.sha);
	curl_easy_cleanup(t.curl);
	free(shown);
	return rc;
}
