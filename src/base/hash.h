/*
 * hash: open-addressing hash map from string keys to pointers.
 *
 * Linear probing with backward-shift deletion (no tombstones, so lookups stay
 * short however many deletes happen), power-of-two capacity, grown at 7/8
 * load. Keys are borrowed views: a key must stay valid and unchanged while
 * its entry is in the map (usually it points into the value object). Values
 * are not owned either. Stored hashes make resizing cheap and mismatches fast.
 *
 * Not thread-safe; a map belongs to one thread.
 */
#ifndef BASE_HASH_H
#define BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/str.h"

enum hash_flags {
	HASH_ICASE = 1 << 0, /* keys compare ASCII case-insensitively */
};

struct hash;

/* @hint: expected number of entries (0 is fine). Returns 0 or -ENOMEM. */
int hash_alloc(struct hash **hp, size_t hint, unsigned flags);
/* Free the table (not the keys or values). NULL is fine. */
void hash_free(struct hash *h);

/*
 * Insert or replace. The previous value for an equal key (or NULL) goes to
 * @oldp when @oldp is not NULL. Returns 0 or -ENOMEM (map unchanged).
 * @val must not be NULL.
 */
int hash_put(struct hash *h, const struct str *key, void *val, void **oldp);
/* The value for @key, or NULL. */
void *hash_get(const struct hash *h, const struct str *key);
/* Remove @key; returns its value, or NULL when absent. */
void *hash_del(struct hash *h, const struct str *key);
size_t hash_count(const struct hash *h);

/*
 * Iterate: start with *@it = 0; returns false at the end. The map must not
 * be changed during an iteration.
 */
bool hash_next(const struct hash *h, size_t *it, struct str *key, void **val);

#endif
