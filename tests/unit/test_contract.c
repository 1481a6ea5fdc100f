/* Unit tests: the rest of the task contract: secret, fsutil, sink, runid, result, log, exitcode. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "redact.h"
#include "result.h"
#include "runid.h"
#include "secret.h"
#include "sink.h"
#include "tt.h"

/* Entries in dir, so a test sees a temporary file left behind. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void secret_from_env(void)
{
	char *v, err[256];
	unsetenv("TR_SECRET");
	unsetenv("TR_SECRET_FILE");
	CHECK_INT(secret_getenv("TR_SECRET", true, &v, err, sizeof err), 0);
	CHECK(v == NULL);
	setenv("TR_SECRET", "env-value-1\n", 1);
	CHECK_INT(secret_getenv("TR_SECRET", true, &v, err, sizeof err), 0);
	CHECK_STR(v, "env-value-1\n"); /* only files lose their newline */
	free(v);
	char *masked = redact_dup("x env-value-1\n y");
	CHECK_STR(masked, "x *** y");
	free(masked);
}

static void secret_env_wins_over_file(void)
{
	char *v, err[256];
	const char *path = tt_path("s");
	tt_write(path, "from-file-1");
	setenv("TR_SECRET_FILE", path, 1);
	setenv("TR_SECRET", "from-env-1", 1);
	CHECK_INT(secret_getenv("TR_SECRET", false, &v, err, sizeof err), 0);
	CHECK_STR(v, "from-env-1");
	free(v);
	unsetenv("TR_SECRET");
	CHECK_INT(secret_getenv("TR_SECRET", false, &v, err, sizeof err), 0);
	CHECK_STR(v, "from-file-1");
	free(v);
	/* Not a secret: not registered for redaction. */
	char *text = redact_dup("from-file-1");
	CHECK_STR(text, "from-file-1");
	free(text);
}

static void secret_file_newline_stripped(void)
{
	static const char *const cases[][2] = {
		{ "value\n", "value" },           { "value\r\n", "value" }, { "value\n\n", "value\n" },
		{ "two\nlines\n", "two\nlines" }, { "value\r", "value\r" }, { "\n\n", "\n" },
		{ "  spaced  ", "  spaced  " },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *v, err[256];
		const char *path = tt_path("nl");
		tt_write(path, cases[i][0]);
		setenv("TR_NL_FILE", path, 1);
		CHECK_INT(secret_getenv("TR_NL", true, &v, err, sizeof err), 0);
		CHECK_STR(v, cases[i][1]);
		free(v);
	}
}

/* Each problem is an error naming the variable, the file and what is wrong. */
static void secret_file_problems(void)
{
	char *v, err[256];
	setenv("TR_BAD_FILE", "", 1);
	CHECK_INT(secret_getenv("TR_BAD", true, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "TR_BAD_FILE is set but empty");
	static const char *const empty[] = { "", "\n", "\r\n" };
	const char *path = tt_path("bad");
	setenv("TR_BAD_FILE", path, 1);
	for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
		tt_write(path, empty[i]);
		CHECK_INT(secret_getenv("TR_BAD", true, &v, err, sizeof err), -1);
		CHECK(v == NULL);
		CHECK_CONTAINS(err, "TR_BAD_FILE");
		CHECK_CONTAINS(err, path);
		CHECK_CONTAINS(err, "empty");
	}
	FILE *f = fopen(path, "w");
	fwrite("a\0b", 1, 3, f);
	fclose(f);
	CHECK_INT(secret_read_file(path, "--password-file", &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "--password-file");
	CHECK_CONTAINS(err, "NUL");
	f = fopen(path, "w");
	for (size_t i = 0; i <= SECRET_MAX_BYTES; i++)
		fputc('x', f);
	fclose(f);
	CHECK_INT(secret_read_file(path, "--conn-file", &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "64 KiB");
	f = fopen(path, "w");
	for (size_t i = 0; i < SECRET_MAX_BYTES - 1; i++)
		fputc('x', f);
	fputc('\n', f);
	fclose(f);
	CHECK_INT(secret_read_file(path, "--conn-file", &v, err, sizeof err), 0);
	CHECK_INT(strlen(v), SECRET_MAX_BYTES - 1);
	free(v);
}

static void secret_file_without_permission(void)
{
	char *v, err[256];
	const char *path = tt_path("noperm");
	tt_write(path, "x");
	chmod(path, 0);
	setenv("TR_GONE_FILE", path, 1);
	CHECK_INT(secret_getenv("TR_GONE", true, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "Permission denied");
}

static void secret_unreadable_file(void)
{
	char *v = (char *)"unchanged", err[256];
	setenv("TR_GONE_FILE", tt_path("does-not-exist"), 1);
	CHECK_INT(secret_getenv("TR_GONE", true, &v, err, sizeof err), -1);
	CHECK(v == NULL);
	CHECK_CONTAINS(err, "TR_GONE_FILE=");
	CHECK_CONTAINS(err, "does-not-exist");
	setenv("TR_GONE_FILE", tt_dir, 1); /* a folder */
	CHECK_INT(secret_getenv("TR_GONE", true, &v, err, sizeof err), -1);
	tt_as_nonroot(secret_file_without_permission);
}

static void fs_read_limits(void)
{
	char *data;
	size_t len;
	const char *path = tt_path("f");
	tt_write(path, "0123456789");
	CHECK_INT(fs_read_file(path, 10, &data, &len), 0);
	CHECK_INT(len, 10);
	CHECK_STR(data, "0123456789");
	free(data);
	CHECK_INT(fs_read_file(path, 9, &data, &len), EFBIG);
	CHECK_INT(fs_read_file(tt_path("nope"), 100, &data, &len), ENOENT);
	tt_write(path, "");
	CHECK_INT(fs_read_file(path, 0, &data, &len), 0);
	CHECK_INT(len, 0);
	CHECK_STR(data, "");
	free(data);
	/* Bigger than one read chunk. */
	char *big = malloc(20001);
	memset(big, 'z', 20000);
	big[20000] = '\0';
	tt_write(path, big);
	CHECK_INT(fs_read_file(path, 20000, &data, &len), 0);
	CHECK_INT(len, 20000);
	CHECK_INT(strlen(data), 20000);
	free(data);
	CHECK_INT(fs_read_file(path, 19999, &data, &len), EFBIG);
	free(big);
}

static void fs_write_atomic_mode(void)
{
	const char *path = tt_path("out.json");
	umask(022);
	CHECK_INT(fs_write_atomic(path, "{\"a\":1}", 7, 0644, (gid_t)-1), 0);
	char *s = tt_read(path);
	CHECK_STR(s, "{\"a\":1}");
	free(s);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0644);
	CHECK_INT(st.st_gid, getegid());
	/* Replacing keeps no temporary file, and the mode is the new one even under umask. */
	umask(077);
	CHECK_INT(fs_write_atomic(path, "new", 3, 0640, (gid_t)-1), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	s = tt_read(path);
	CHECK_STR(s, "new");
	free(s);
	CHECK_INT(count_files(tt_dir), 1);
}

/* A group we are not in: refused, the file untouched, no temporary left. */
static void gid_not_ours_refused(void)
{
	char dir[600], path[700];
	snprintf(dir, sizeof dir, "%s", tt_path("mine"));
	CHECK_INT(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/g", dir);
	CHECK_INT(fs_write_atomic(path, "x", 1, 0600, (gid_t)-1), 0);
	CHECK(fs_write_atomic(path, "y", 1, 0640, 0) != 0);
	char *s = tt_read(path);
	CHECK_STR(s, "x");
	free(s);
	CHECK_INT(count_files(dir), 1);
}

static void fs_write_atomic_gid(void)
{
	const char *path = tt_path("g");
	gid_t gid = getegid();
	CHECK_INT(fs_write_atomic(path, "x", 1, 0600, gid), 0);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_gid, gid);
	if (geteuid() == 0) {
		CHECK_INT(fs_write_atomic(path, "y", 1, 0640, 12345), 0);
		CHECK_INT(stat(path, &st), 0);
		CHECK_INT(st.st_gid, 12345);
		CHECK_INT(st.st_mode & 07777, 0640);
	}
	tt_as_nonroot(gid_not_ours_refused);
}

static void read_only_folder_refused(void)
{
	char dir[600], inside[700];
	snprintf(dir, sizeof dir, "%s", tt_path("ro"));
	CHECK_INT(mkdir(dir, 0555), 0);
	snprintf(inside, sizeof inside, "%s/f", dir);
	CHECK_INT(fs_write_atomic(inside, "x", 1, 0644, (gid_t)-1), EACCES);
	CHECK_INT(count_files(dir), 0);
}

static void fs_write_atomic_errors(void)
{
	CHECK_INT(fs_write_atomic(tt_path("no/such/dir/f"), "x", 1, 0644, (gid_t)-1), ENOENT);
	/* The target is a folder: rename fails, the temporary file is removed. */
	char dir[600];
	snprintf(dir, sizeof dir, "%s", tt_path("adir"));
	CHECK_INT(mkdir(dir, 0755), 0);
	CHECK(fs_write_atomic(dir, "x", 1, 0644, (gid_t)-1) != 0);
	CHECK_INT(count_files(tt_dir), 1);
	struct stat st;
	CHECK_INT(stat(dir, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	tt_as_nonroot(read_only_folder_refused);
}

/* Two writers of one path (as two PID-1 runners sharing a folder) get distinct temporary files;
 * each commit publishes one whole file, and no temporary file is left. */
static void atomic_two_writers(void)
{
	const char *path = tt_path("shared.csv");
	struct atomic_file a, b;
	CHECK_INT(atomic_open(&a, path, 0644, (gid_t)-1), 0);
	CHECK_INT(atomic_open(&b, path, 0644, (gid_t)-1), 0);
	CHECK(strcmp(a.tmp, b.tmp) != 0);
	CHECK_INT(count_files(tt_dir), 2);
	CHECK_INT(fs_write_all(a.fd, "aaaa", 4), 0);
	CHECK_INT(fs_write_all(b.fd, "bb", 2), 0);
	CHECK_INT(atomic_commit(&a), 0);
	char *s = tt_read(path);
	CHECK_STR(s, "aaaa");
	free(s);
	CHECK_INT(atomic_commit(&b), 0);
	s = tt_read(path);
	CHECK_STR(s, "bb");
	free(s);
	CHECK_INT(count_files(tt_dir), 1);
	CHECK(a.tmp == NULL && b.tmp == NULL && a.fd == -1);
}

static void atomic_abort_leaves_target(void)
{
	const char *path = tt_path("keep");
	tt_write(path, "old");
	struct atomic_file f;
	CHECK_INT(atomic_open(&f, path, 0600, (gid_t)-1), 0);
	CHECK_INT(fs_write_all(f.fd, "new", 3), 0);
	atomic_abort(&f);
	char *s = tt_read(path);
	CHECK_STR(s, "old");
	free(s);
	CHECK_INT(count_files(tt_dir), 1);
}

static void sink_file_commit(void)
{
	struct sink s;
	const char *path = tt_path("data.csv");
	CHECK_INT(sink_open(&s, path), 0);
	fputs("a,b\n1,2\n", s.fp);
	CHECK(access(path, F_OK) != 0); /* not visible before the commit */
	CHECK_INT(count_files(tt_dir), 1);
	CHECK_INT(sink_commit(&s), 0);
	char *text = tt_read(path);
	CHECK_STR(text, "a,b\n1,2\n");
	free(text);
	CHECK_INT(count_files(tt_dir), 1);
}

static void sink_file_abort(void)
{
	struct sink s;
	const char *path = tt_path("keep.csv");
	tt_write(path, "old\n");
	CHECK_INT(sink_open(&s, path), 0);
	fputs("half", s.fp);
	sink_abort(&s);
	char *text = tt_read(path);
	CHECK_STR(text, "old\n");
	free(text);
	CHECK_INT(count_files(tt_dir), 1);
}

static void sink_stdout(void)
{
	struct sink s;
	struct tt_capture cap;
	tt_capture_start(&cap, 1);
	CHECK_INT(sink_open(&s, "-"), 0);
	CHECK(s.fp == stdout && s.file.path == NULL);
	fputs("row\n", s.fp);
	CHECK_INT(sink_commit(&s), 0);
	char *out = tt_capture_end(&cap);
	CHECK_STR(out, "row\n");
	free(out);
	CHECK_INT(sink_open(&s, NULL), 0);
	sink_abort(&s);
}

static void sink_open_error(void)
{
	struct sink s;
	CHECK_INT(sink_open(&s, tt_path("missing/dir/out")), ENOENT);
}

static void runid_without_dag(void)
{
	unsetenv("TINYRUN_DAG_ID");
	char *s = runid_application_name("postgres-runner", 63);
	CHECK_STR(s, "tinyrun/postgres-runner");
	free(s);
	setenv("TINYRUN_DAG_ID", "", 1);
	s = runid_application_name("x", 63);
	CHECK_STR(s, "tinyrun/x");
	free(s);
}

static void runid_full_identity(void)
{
	setenv("TINYRUN_DAG_ID", "etl", 1);
	setenv("TINYRUN_TASK_ID", "load", 1);
	setenv("TINYRUN_RUN_ID", "manual__2024", 1);
	setenv("TINYRUN_TRY_NUMBER", "2", 1);
	setenv("TINYRUN_MAP_INDEX", "-1", 1);
	char *s = runid_application_name("pg", 63);
	CHECK_STR(s, "tinyrun/etl/load/manual__2024/2");
	free(s);
	setenv("TINYRUN_MAP_INDEX", "3", 1);
	s = runid_application_name("pg", 63);
	CHECK_STR(s, "tinyrun/etl/load/manual__2024/2/3");
	free(s);
	unsetenv("TINYRUN_RUN_ID");
	unsetenv("TINYRUN_MAP_INDEX");
	s = runid_application_name("pg", 63);
	CHECK_STR(s, "tinyrun/etl/load/2");
	free(s);
}

static void runid_truncated(void)
{
	setenv("TINYRUN_DAG_ID", "a_very_long_dag_identifier_that_goes_on_and_on", 1);
	setenv("TINYRUN_TASK_ID", "and_a_long_task_name_too", 1);
	setenv("TINYRUN_RUN_ID", "scheduled__2024-01-01T00:00:00+00:00", 1);
	char *s = runid_application_name("pg", 63);
	CHECK_INT(strlen(s), 63);
	CHECK(strncmp(s, "tinyrun/a_very_long_dag", 23) == 0);
	free(s);
	s = runid_application_name("pg", 7);
	CHECK_STR(s, "tinyrun");
	free(s);
}

/* result_finish with stdout captured (after printing before, if set); returns the exit code. */
static int finish_after(const char *before, int code, char **out, char **err)
{
	struct tt_capture c1, c2;
	tt_capture_start(&c1, 1);
	tt_capture_start(&c2, 2);
	if (before)
		printf("%s", before);
	int rc = result_finish(code);
	*err = tt_capture_end(&c2);
	*out = tt_capture_end(&c1);
	return rc;
}

static int finish(int code, char **out, char **err)
{
	return finish_after(NULL, code, out, err);
}

static const char *last_line(char *text)
{
	size_t n = strlen(text);
	if (n && text[n - 1] == '\n')
		text[--n] = '\0';
	char *nl = strrchr(text, '\n');
	return nl ? nl + 1 : text;
}

static void result_success_line_and_xcom(void)
{
	char xcom[600];
	snprintf(xcom, sizeof xcom, "%s", tt_path("xcom"));
	mkdir(xcom, 0755);
	setenv("TINYRUN_XCOM_DIR", xcom, 1);
	setenv("TINYRUN_TERMINATION_LOG", tt_path("termlog"), 1);
	tt_write(tt_path("termlog"), "");
	log_init("unit-runner");
	cJSON_AddNumberToObject(result_object(), "rows", 3);
	char *out, *err;
	CHECK_INT(finish_after("some data output\nlast row\n", TR_EXIT_OK, &out, &err), 0);
	const char *line = last_line(out);
	CHECK_CONTAINS(out, "some data output\nlast row\n{");
	CHECK(strchr(line, '\n') == NULL);
	cJSON *r = cJSON_Parse(line);
	CHECK(cJSON_IsObject(r));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "status")), "success");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "runner")), "unit-runner");
	CHECK(cJSON_IsString(cJSON_GetObjectItem(r, "version")));
	CHECK_INT(cJSON_GetObjectItem(r, "exit_code")->valueint, 0);
	CHECK_INT(cJSON_GetObjectItem(r, "rows")->valueint, 3);
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(r, "duration_ms")));
	CHECK(cJSON_GetObjectItem(r, "error") == NULL);
	cJSON_Delete(r);
	char path[700];
	snprintf(path, sizeof path, "%s/return.json", xcom);
	char *ret = tt_read(path);
	CHECK_STR(ret, line);
	free(ret);
	CHECK_INT(count_files(xcom), 1);
	char *term = tt_read(tt_path("termlog"));
	CHECK_STR(term, ""); /* success: the termination log stays empty */
	free(term);
	free(out);
	free(err);
}

static void result_failure_termination_log(void)
{
	setenv("TINYRUN_XCOM_DIR", tt_path("no-xcom"), 1);
	char term[600];
	snprintf(term, sizeof term, "%s", tt_path("termination-log"));
	tt_write(term, "stale");
	setenv("TINYRUN_TERMINATION_LOG", term, 1);
	log_init("unit-runner");
	log_set_format("json");
	redact_add("db-pass-77");
	char *out, *err;
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	CHECK_INT(result_fail(TR_EXIT_AUTH, "auth", "login as %s with db-pass-77 refused", "alice"), TR_EXIT_AUTH);
	result_fail(TR_EXIT_FAILED, "second", "not the first error");
	free(tt_capture_end(&cap));
	CHECK_INT(finish(TR_EXIT_AUTH, &out, &err), TR_EXIT_AUTH);
	const char *line = last_line(out);
	CHECK_NOT_CONTAINS(out, "db-pass-77");
	cJSON *r = cJSON_Parse(line);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "status")), "auth_error");
	CHECK_INT(cJSON_GetObjectItem(r, "exit_code")->valueint, 3);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "error")), "login as alice with *** refused");
	cJSON_Delete(r);
	char *t = tt_read(term);
	CHECK_STR(t, "unit-runner: auth_error (exit 3): login as alice with *** refused\n");
	free(t);
	CHECK(access(tt_path("no-xcom"), F_OK) != 0);
	free(out);
	free(err);
}

static void result_skipped_no_termination_log(void)
{
	setenv("TINYRUN_XCOM_DIR", tt_path("no-xcom"), 1);
	char term[600];
	snprintf(term, sizeof term, "%s", tt_path("tl"));
	tt_write(term, "");
	setenv("TINYRUN_TERMINATION_LOG", term, 1);
	char *out, *err;
	CHECK_INT(finish(TR_EXIT_SKIPPED, &out, &err), TR_EXIT_SKIPPED);
	CHECK_CONTAINS(out, "\"status\":\"skipped\"");
	char *t = tt_read(term);
	CHECK_STR(t, "");
	free(t);
	free(out);
	free(err);
	/* A missing termination log is not created. */
	setenv("TINYRUN_TERMINATION_LOG", tt_path("absent"), 1);
	CHECK_INT(finish(TR_EXIT_FAILED, &out, &err), TR_EXIT_FAILED);
	CHECK(access(tt_path("absent"), F_OK) != 0);
	free(out);
	free(err);
}

static void xcom_not_writable_warns(void)
{
	char xcom[600];
	snprintf(xcom, sizeof xcom, "%s", tt_path("ro"));
	mkdir(xcom, 0555);
	setenv("TINYRUN_XCOM_DIR", xcom, 1);
	log_set_format("json");
	char *out, *err;
	CHECK_INT(finish(TR_EXIT_OK, &out, &err), 0);
	CHECK_CONTAINS(err, "\"event\":\"xcom\"");
	free(out);
	free(err);
}

static void result_xcom_not_writable_warns(void)
{
	tt_as_nonroot(xcom_not_writable_warns); /* root would write anyway */
}

static void log_json_line(void)
{
	log_init("unit-runner");
	CHECK_INT(log_set_format("json"), 0);
	redact_add("log-secret-1");
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	cJSON *fields = cJSON_CreateObject();
	cJSON_AddNumberToObject(fields, "rows", 12);
	cJSON_AddStringToObject(fields, "pw", "log-secret-1");
	log_event(LOG_LEVEL_WARN, "stmt.done", fields, "ran %d statements with log-secret-1", 3);
	char *err = tt_capture_end(&cap);
	size_t n = strlen(err);
	CHECK(n > 0 && err[n - 1] == '\n');
	CHECK(strchr(err, '\n') == err + n - 1);
	CHECK_NOT_CONTAINS(err, "log-secret-1");
	cJSON *o = cJSON_Parse(err);
	CHECK(cJSON_IsObject(o));
	const char *ts = cJSON_GetStringValue(cJSON_GetObjectItem(o, "ts"));
	CHECK(ts && strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z');
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "level")), "warn");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "runner")), "unit-runner");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "event")), "stmt.done");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "msg")), "ran 3 statements with ***");
	cJSON *f = cJSON_GetObjectItem(o, "fields");
	CHECK_INT(cJSON_GetObjectItem(f, "rows")->valueint, 12);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(f, "pw")), "***");
	cJSON_Delete(o);
	free(err);
}

static void log_json_escapes_and_empty_fields(void)
{
	log_set_format("json");
	redact_add("quo\"te-secret");
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	log_info("ev", "line1\nline2 \"q\" quo\"te-secret");
	char *err = tt_capture_end(&cap);
	CHECK_NOT_CONTAINS(err, "te-secret");
	cJSON *o = cJSON_Parse(err);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "msg")), "line1\nline2 \"q\" ***");
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(o, "fields")));
	CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(o, "fields")), 0);
	cJSON_Delete(o);
	free(err);
}

static void log_levels_and_formats(void)
{
	CHECK_INT(log_set_level("bogus"), -1);
	CHECK_INT(log_set_format("xml"), -1);
	CHECK_INT(log_set_level("warn"), 0);
	CHECK_INT(log_set_format("text"), 0);
	struct tt_capture cap;
	tt_capture_start(&cap, 2);
	log_info("hidden", "not shown");
	log_debug("hidden", "not shown");
	cJSON *fields = cJSON_CreateObject();
	cJSON_AddNumberToObject(fields, "n", 1);
	cJSON_AddStringToObject(fields, "s", "v");
	log_event(LOG_LEVEL_ERROR, "shown", fields, "boom");
	char *err = tt_capture_end(&cap);
	CHECK_NOT_CONTAINS(err, "hidden");
	CHECK_CONTAINS(err, "ERROR shown: boom n=1 s=v\n");
	free(err);
	CHECK_INT(log_set_level("debug"), 0);
	CHECK_INT(log_set_format("auto"), 0); /* stderr is a file here: JSON */
	tt_capture_start(&cap, 2);
	log_debug("dbg", "x");
	err = tt_capture_end(&cap);
	CHECK_CONTAINS(err, "\"level\":\"debug\"");
	free(err);
}

static void exit_status_words(void)
{
	CHECK_STR(exitcode_status(0), "success");
	CHECK_STR(exitcode_status(1), "failed");
	CHECK_STR(exitcode_status(2), "usage_error");
	CHECK_STR(exitcode_status(3), "auth_error");
	CHECK_STR(exitcode_status(75), "temporary_error");
	CHECK_STR(exitcode_status(99), "skipped");
	CHECK_STR(exitcode_status(143), "signalled");
	CHECK_STR(exitcode_status(130), "signalled");
	CHECK_STR(exitcode_status(42), "failed");
}

TT_MAIN(TT_CASE(secret_from_env), TT_CASE(secret_env_wins_over_file), TT_CASE(secret_file_newline_stripped),
        TT_CASE(secret_file_problems), TT_CASE(secret_unreadable_file), TT_CASE(fs_read_limits),
        TT_CASE(fs_write_atomic_mode), TT_CASE(fs_write_atomic_gid), TT_CASE(fs_write_atomic_errors),
        TT_CASE(atomic_two_writers), TT_CASE(atomic_abort_leaves_target), TT_CASE(sink_file_commit),
        TT_CASE(sink_file_abort), TT_CASE(sink_stdout), TT_CASE(sink_open_error), TT_CASE(runid_without_dag),
        TT_CASE(runid_full_identity), TT_CASE(runid_truncated), TT_CASE(result_success_line_and_xcom),
        TT_CASE(result_failure_termination_log), TT_CASE(result_skipped_no_termination_log),
        TT_CASE(result_xcom_not_writable_warns), TT_CASE(log_json_line), TT_CASE(log_json_escapes_and_empty_fields),
        TT_CASE(log_levels_and_formats), TT_CASE(exit_status_words))
