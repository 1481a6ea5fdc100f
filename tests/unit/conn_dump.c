/* conn_dump: parse the connection text on stdin with conn_parse() and print conn_to_json(c, 1) on
 * one line; on a parse error print the message on stderr and exit 2. The oracle helper of
 * tests/test_conn_oracle.py, which compares its output with Airflow's own parser. */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "conn.h"

int main(void)
{
	struct buf in = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_append(&in, chunk, n);
	struct conn c;
	char err[512];
	if (conn_parse(buf_str(&in), &c, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		buf_free(&in);
		return 2;
	}
	cJSON *json = conn_to_json(&c, 1);
	char *text = cJSON_PrintUnformatted(json);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(json);
	conn_free(&c);
	buf_free(&in);
	return 0;
}
