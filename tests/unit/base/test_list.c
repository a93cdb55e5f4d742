/*
 * Unit tests for list: insertion order, unlinking from any position (and
 * twice), moving between lists, and unlinking while iterating. Every check
 * walks the list both ways, so a broken prev link cannot hide.
 */
#include "base/list.h"
#include "test.h"

struct item {
	char name;
	struct list_elem le;
};

/* The names along @l, checked forwards against backwards; "!" when they disagree. */
static struct str names(const struct list *l, char *buf, size_t size)
{
	struct list_elem *e;
	size_t n = 0, back;

	for (e = list_head(l); e && n < size; e = list_next(l, e))
		buf[n++] = list_entry(e, struct item, le)->name;
	back = n;
	for (e = l->head.prev; e != &l->head; e = e->prev) {
		if (back == 0 || buf[--back] != list_entry(e, struct item, le)->name)
			return STR("!");
	}
	if (back != 0 || n != list_count(l))
		return STR("!");
	return str_make(buf, n);
}

TEST(test_list_order)
{
	struct item a = {.name = 'a'}, b = {.name = 'b'}, c = {.name = 'c'}, d = {.name = 'd'},
		    x = {.name = 'x'};
	struct list l;
	char buf[8];
	int err = 0;

	list_init(&l);
	TEST_ASSERT(list_empty(&l));
	TEST_ASSERT(list_head(&l) == NULL);
	TEST_ASSERT(list_tail(&l) == NULL);
	TEST_EQUALS(0, list_count(&l));
	TEST_STR("", names(&l, buf, sizeof(buf)));

	list_append(&l, &a.le);
	list_append(&l, &b.le);
	list_prepend(&l, &c.le);
	TEST_STR("cab", names(&l, buf, sizeof(buf)));
	list_insert_before(&b.le, &d.le);
	TEST_STR("cadb", names(&l, buf, sizeof(buf)));
	/* Before the head is a new head. */
	list_insert_before(&c.le, &x.le);
	TEST_STR("xcadb", names(&l, buf, sizeof(buf)));
	list_unlink(&x.le);
	TEST_ASSERT(list_head(&l) == &c.le);
	TEST_ASSERT(list_tail(&l) == &b.le);
	TEST_ASSERT(list_next(&l, &b.le) == NULL);
	TEST_EQUALS(4, list_count(&l));
out:
	return err;
}

TEST(test_list_unlink)
{
	struct item a = {.name = 'a'}, b = {.name = 'b'}, c = {.name = 'c'}, d = {.name = 'd'};
	struct list l, other;
	char buf[8];
	int err = 0;

	list_init(&l);
	list_init(&other);
	list_elem_init(&d.le);
	TEST_ASSERT(!list_elem_linked(&d.le));
	list_unlink(&d.le); /* unlinked: a no-op */
	TEST_ASSERT(!list_elem_linked(&d.le));

	list_append(&l, &a.le);
	list_append(&l, &b.le);
	list_append(&l, &c.le);
	list_append(&l, &d.le);
	TEST_ASSERT(list_elem_linked(&b.le));
	list_unlink(&b.le);
	TEST_ASSERT(!list_elem_linked(&b.le));
	TEST_STR("acd", names(&l, buf, sizeof(buf)));
	list_unlink(&b.le);
	TEST_STR("acd", names(&l, buf, sizeof(buf)));
	list_unlink(&a.le);
	TEST_STR("cd", names(&l, buf, sizeof(buf)));
	list_unlink(&d.le);
	TEST_STR("c", names(&l, buf, sizeof(buf)));

	/* An unlinked element can join another list. */
	list_append(&other, &a.le);
	list_prepend(&other, &b.le);
	TEST_STR("ba", names(&other, buf, sizeof(buf)));
	list_unlink(&c.le);
	TEST_ASSERT(list_empty(&l));
	TEST_STR("", names(&l, buf, sizeof(buf)));
out:
	return err;
}

TEST(test_list_for_each_safe)
{
	struct item it[10];
	struct list_elem *e, *tmp;
	struct list l;
	char buf[16];
	int err = 0;

	list_init(&l);
	for (int i = 0; i < 10; i++) {
		it[i].name = (char)('0' + i);
		list_append(&l, &it[i].le);
	}
	/* Unlink the odd ones while walking. */
	list_for_each_safe(&l, e, tmp)
	{
		if ((list_entry(e, struct item, le)->name - '0') % 2)
			list_unlink(e);
	}
	TEST_STR("02468", names(&l, buf, sizeof(buf)));
	TEST_ASSERT(!list_elem_linked(&it[9].le));

	/* And the rest, so the list ends empty. */
	while ((e = list_head(&l)))
		list_unlink(e);
	TEST_ASSERT(list_empty(&l));
	TEST_EQUALS(0, list_count(&l));
out:
	return err;
}

TEST(test_list_splice_tail)
{
	struct item a = {.name = 'a'}, b = {.name = 'b'}, c = {.name = 'c'};
	struct list l1, l2;
	char buf[8];
	int err = 0;

	list_init(&l1);
	list_init(&l2);
	list_splice_tail(&l1, &l2); /* empty into empty */
	TEST_STR("", names(&l1, buf, sizeof(buf)));
	list_append(&l2, &a.le);
	list_append(&l2, &b.le);
	list_splice_tail(&l1, &l2); /* into an empty list */
	TEST_STR("ab", names(&l1, buf, sizeof(buf)));
	TEST_STR("", names(&l2, buf, sizeof(buf)));
	list_append(&l2, &c.le);
	list_splice_tail(&l1, &l2); /* behind what is there */
	TEST_STR("abc", names(&l1, buf, sizeof(buf)));
	TEST_ASSERT(list_empty(&l2));
	list_splice_tail(&l1, &l2); /* nothing to move */
	TEST_STR("abc", names(&l1, buf, sizeof(buf)));
out:
	return err;
}
