/*
 * list: intrusive doubly linked list.
 *
 * The link (struct list_elem) lives inside the object, so linking never
 * allocates and an object can unlink itself in O(1) from its destructor. The
 * list does not own its elements.
 */
#ifndef BASE_LIST_H
#define BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_elem {
	struct list_elem *prev, *next;
};

/* A list is a sentinel element: empty when it points at itself. */
struct list {
	struct list_elem head;
};

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define list_entry(e, type, member)	container_of(e, type, member)

static inline void list_init(struct list *l)
{
	l->head.prev = l->head.next = &l->head;
}

/* An element that is on no list (list_elem_linked() is then false). */
static inline void list_elem_init(struct list_elem *e)
{
	e->prev = e->next = NULL;
}

static inline bool list_elem_linked(const struct list_elem *e)
{
	return e->next != NULL;
}

static inline bool list_empty(const struct list *l)
{
	return l->head.next == &l->head;
}

static inline void list_insert_between_(struct list_elem *e, struct list_elem *prev,
					struct list_elem *next)
{
	e->prev = prev;
	e->next = next;
	prev->next = e;
	next->prev = e;
}

static inline void list_append(struct list *l, struct list_elem *e)
{
	list_insert_between_(e, l->head.prev, &l->head);
}

static inline void list_prepend(struct list *l, struct list_elem *e)
{
	list_insert_between_(e, &l->head, l->head.next);
}

/* Insert @e right before @at (which is on a list). */
static inline void list_insert_before(struct list_elem *at, struct list_elem *e)
{
	list_insert_between_(e, at->prev, at);
}

/* Remove @e from whatever list holds it; a no-op for an unlinked element. */
static inline void list_unlink(struct list_elem *e)
{
	if (!e->next)
		return;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

/* Move every element of @from to the end of @to, in order; @from ends empty. */
static inline void list_splice_tail(struct list *to, struct list *from)
{
	if (list_empty(from))
		return;
	from->head.next->prev = to->head.prev;
	to->head.prev->next = from->head.next;
	from->head.prev->next = &to->head;
	to->head.prev = from->head.prev;
	from->head.next = from->head.prev = &from->head;
}

static inline struct list_elem *list_head(const struct list *l)
{
	return list_empty(l) ? NULL : l->head.next;
}

static inline struct list_elem *list_tail(const struct list *l)
{
	return list_empty(l) ? NULL : l->head.prev;
}

/* Next element after @e on @l, or NULL at the end. */
static inline struct list_elem *list_next(const struct list *l, const struct list_elem *e)
{
	return e->next == &l->head ? NULL : e->next;
}

/* Iterate; @e may be unlinked inside the body (the next one is read first). */
#define list_for_each_safe(l, e, tmp)                                    \
	for ((e) = (l)->head.next, (tmp) = (e)->next; (e) != &(l)->head; \
	     (e) = (tmp), (tmp) = (e)->next)

size_t list_count(const struct list *l);

#endif
