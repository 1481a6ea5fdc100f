/* catalog: the row handlers both engines' catalog readers share. */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

char *catalog_dup(const char *cell)
{
	return cell ? xstrdup(cell) : NULL;
}

void catalog_split_list(const char *text, struct strlist *out)
{
	while (text && *text) {
		size_t n = strcspn(text, ",");
		char *item = xstrndup(text, n);
		strlist_push(out, item);
		free(item);
		text += n + (text[n] == ',');
	}
}

struct table *catalog_table(struct catalog *cat, const char *const *cells)
{
	return cells[0] && cells[1] ? model_find(&cat->tables, cells[0], cells[1]) : NULL;
}

void catalog_add_schema(struct catalog *cat, const char *const *cells)
{
	if (cells[0])
		strlist_push(&cat->schemas, cells[0]);
}

void catalog_add_trigger(struct catalog *cat, const char *const *cells)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s.%s.%s", cells[0], cells[1], cells[2]);
	strlist_push(&cat->triggers, buf_str(&b));
	buf_free(&b);
}
