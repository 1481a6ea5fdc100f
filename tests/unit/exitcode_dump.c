/* exitcode_dump: print common/exitcode.c's table as one JSON array of {code, label, status,
 * meaning, airflow}. tests/test_exit_codes.py checks README.md and the DAG factory against it. */
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "exitcode.h"

int main(void)
{
	cJSON *list = cJSON_CreateArray();
	for (const struct tr_exit_meaning *m = tr_exit_meanings; m->label; m++) {
		cJSON *row = cJSON_CreateObject();
		cJSON_AddNumberToObject(row, "code", m->code);
		cJSON_AddStringToObject(row, "label", m->label);
		cJSON_AddStringToObject(row, "status", m->status);
		cJSON_AddStringToObject(row, "meaning", m->meaning);
		cJSON_AddStringToObject(row, "airflow", m->airflow);
		cJSON_AddItemToArray(list, row);
	}
	char *text = cJSON_PrintUnformatted(list);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(list);
	return 0;
}
