/*
 * list: the one out-of-line list operation (see list.h). Everything else is
 * inline because it is a few pointer moves; counting walks the whole list, so
 * it is here to keep that cost visible at the call site.
 */
#include "base/list.h"

size_t list_count(const struct list *l)
{
	const struct list_elem *e;
	size_t n = 0;

	for (e = l->head.next; e != &l->head; e = e->next)
		n++;
	return n;
}
