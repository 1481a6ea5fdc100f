/* libFuzzer target: cli_parse over an argument vector (NUL-separated words of the input),
 * with every option kind in the table. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bool f_bool;
static const char *f_str, *f_secret;
static long f_int, f_dur;
static struct strlist f_list;

static const struct opt opts[] = {
	{ "flag", 'f', OPT_BOOL, &f_bool, NULL, "a bool", 0 },
	{ "name", 'n', OPT_STRING, &f_str, "NAME", "a string", 0 },
	{ "password", 'p', OPT_STRING, &f_secret, "PW", "a secret", OPT_SECRET },
	{ "count", 'c', OPT_INT, &f_int, "N", "an int", 0 },
	{ "timeout", 't', OPT_DURATION, &f_dur, "D", "a duration", 0 },
	{ "set", 'v', OPT_LIST, &f_list, "K=V", "a list", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};
static const struct cmd cmd = { "fuzz run", "[flags] ARGS", "fuzzing", NULL, opts, NULL, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz");
	log_set_format("json");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)"run";
	for (size_t i = 0; i < size && argc < 63;) {
		argv[argc++] = text + i;
		i += strlen(text + i) + 1;
	}
	argv[argc] = NULL;
	struct strlist rest = { 0 };
	int rc = cli_parse(&cmd, argc, argv, &rest);
	if (rc != 0 && rc != TR_EXIT_USAGE && rc != CLI_DONE)
		abort();
	if (rc == 0 && rest.len > (size_t)argc)
		abort();
	strlist_free(&rest);
	strlist_free(&f_list);
	f_str = f_secret = NULL;
	redact_clear();
	free(text);
	return 0;
}
