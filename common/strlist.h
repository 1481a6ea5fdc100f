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
/* The items as the NULL-terminated array execve wants (a NULL is appended once; the list still
 * owns everything: push nothing more, free it with strlist_free). */
char **strlist_terminate(struct strlist *l);

#endif
