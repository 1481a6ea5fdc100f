/* strlist: an owned list of strings (repeatable flags, positional arguments). */
#ifndef TR_STRLIST_H
#define TR_STRLIST_H

#include <stddef.h>

struct strlist {
	char **items;
	size_t len;
};

void strlist_push(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

#endif
