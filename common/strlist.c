/* strlist: owned string lists. */
#include "strlist.h"

#include <stdlib.h>

#include "buf.h"

void strlist_push(struct strlist *l, const char *s)
{
	l->items = xrealloc(l->items, (l->len + 1) * sizeof *l->items);
	l->items[l->len++] = xstrdup(s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = 0;
}

char **strlist_terminate(struct strlist *l)
{
	if (!l->len || l->items[l->len - 1]) {
		l->items = xrealloc(l->items, (l->len + 1) * sizeof *l->items);
		l->items[l->len++] = NULL; /* strlist_free frees NULL harmlessly */
	}
	return l->items;
}
