/*
 * reg_throttle: counting failed authentications and blocking their sources.
 *
 * Two counters per failure, each in a fixed window that starts at its first
 * failure: one per source IP (an account scanner trying many users) and one
 * per (source IP, AOR) (a password cracker on one user). Past a threshold
 * the key is blocked for conf.block_ms and its requests get 403 "Blocked"
 * before any credential is looked at. There is deliberately no counter per
 * AOR alone: blocking an AOR from everywhere would let anyone lock a real
 * agent out by failing on purpose; a legitimate user on another source
 * never shares a key with the attacker.
 *
 * The source is the IP address alone (ports change with every NAT
 * binding); an IPv4-mapped IPv6 address counts as IPv4. An IPv6 attacker
 * with a whole /64 can rotate addresses: keying IPv6 by prefix is a later
 * choice, made with the operators who run it.
 *
 * Memory is bounded by conf.max_tracked entries: past it the oldest
 * counting entry is forgotten first, then the oldest block. Each entry has a
 * timer that frees it when its window or its block ends.
 */
#include <errno.h>
#include <stdio.h>

#define LOG_MODULE "reg"
#include "base/log.h"
#include "base/mem.h"
#include "reg/reg_internal.h"

struct reg_thr {
	struct list_elem le; /* in reg->thr_watch or reg->thr_blocked */
	struct timer tmr;    /* end of the window, or of the block */
	struct reg *reg;
	struct str key;	      /* "ip" or "ip user@domain", in buf */
	struct reg_block blk; /* src, user and domain point into buf */
	uint64_t window_ms;   /* start of the counting window */
	bool blocked;
	char buf[];
};

/* Longest AOR user part a key keeps; longer ones share a key (no real user is). */
#define KEY_USER_MAX 256
#define KEY_SIZE     (64 + KEY_USER_MAX + REG_REALM_SIZE)

static struct str thr_key(char *buf, const char *ip, const struct str *user,
			  const struct str *domain)
{
	int n;

	if (!user)
		n = snprintf(buf, KEY_SIZE, "%s", ip);
	else
		n = snprintf(buf, KEY_SIZE, "%s %.*s@%.*s", ip,
			     (int)(user->len < KEY_USER_MAX ? user->len : KEY_USER_MAX), user->p,
			     (int)(domain->len < REG_REALM_SIZE ? domain->len : REG_REALM_SIZE),
			     domain->p);
	if (n < 0)
		n = 0;
	return str_make(buf, (size_t)n < KEY_SIZE ? (size_t)n : KEY_SIZE - 1);
}

static void thr_drop(struct reg *reg, struct reg_thr *e)
{
	hash_del(reg->thr, &e->key);
	list_unlink(&e->le);
	timer_cancel(&e->tmr);
	reg->nthr--;
	mem_free(e);
}

/* The window, or the block, is over: forget the key. */
static void thr_timeout(void *arg)
{
	struct reg_thr *e = arg;

	if (e->blocked)
		log_info("block ended src=%.*s aor=%.*s@%.*s", STR_FMT(&e->blk.src),
			 STR_FMT(&e->blk.user), STR_FMT(&e->blk.domain));
	thr_drop(e->reg, e);
}

static struct reg_thr *thr_alloc(struct reg *reg, const struct str *key, const char *ip,
				 const struct str *user)
{
	size_t iplen = strlen(ip);
	struct reg_thr *e;
	char *p;

	e = mem_zalloc(sizeof(*e) + key->len + iplen + 3);
	if (!e)
		return NULL;
	p = e->buf;
	memcpy(p, key->p, key->len);
	e->key = str_make(p, key->len);
	p += key->len + 1;
	memcpy(p, ip, iplen);
	e->blk.src = str_make(p, iplen);
	if (user) {
		/* The key holds "ip user@domain": the AOR views share its bytes. */
		size_t ulen = user->len < KEY_USER_MAX ? user->len : KEY_USER_MAX;

		e->blk.user = str_make(e->key.p + iplen + 1, ulen);
		e->blk.domain = str_make(e->blk.user.p + ulen + 1, key->len - iplen - ulen - 2);
	}
	e->reg = reg;
	timer_init(&e->tmr);
	list_elem_init(&e->le);
	return e;
}

static void thr_block(struct reg *reg, struct reg_thr *e, uint64_t now_ms)
{
	e->blocked = true;
	e->blk.since_ms = now_ms;
	e->blk.until_ms = now_ms + reg->conf.block_ms;
	list_unlink(&e->le);
	list_append(&reg->thr_blocked, &e->le);
	timer_start(reg->tw, &e->tmr, reg->conf.block_ms, thr_timeout, e);
	if (e->blk.user.len)
		log_warn("blocked src=%.*s aor=%.*s@%.*s failures=%u seconds=%u",
			 STR_FMT(&e->blk.src), STR_FMT(&e->blk.user), STR_FMT(&e->blk.domain),
			 e->blk.count, reg->conf.block_ms / 1000);
	else /* the whole source, whatever AOR it tries */
		log_warn("blocked src=%.*s aor=* failures=%u seconds=%u", STR_FMT(&e->blk.src),
			 e->blk.count, reg->conf.block_ms / 1000);
	if (reg->ops.blocked)
		reg->ops.blocked(reg->arg, &e->blk);
}

static int thr_count(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *domain, uint32_t max, uint64_t now_ms)
{
	char kbuf[KEY_SIZE];
	struct str key = thr_key(kbuf, ip, user, domain);
	struct reg_thr *e = hash_get(reg->thr, &key);
	uint64_t end;
	int err;

	if (e && e->blocked)
		return 0;
	if (e && now_ms - e->window_ms >= reg->conf.fail_window_ms) {
		e->blk.count = 0;
		e->window_ms = now_ms;
	}
	if (!e) {
		if (reg->nthr >= reg->conf.max_tracked) {
			struct list *l =
			    list_empty(&reg->thr_watch) ? &reg->thr_blocked : &reg->thr_watch;

			thr_drop(reg, list_entry(list_head(l), struct reg_thr, le));
		}
		e = thr_alloc(reg, &key, ip, user);
		if (!e)
			return -ENOMEM;
		err = hash_put(reg->thr, &e->key, e, NULL);
		if (err) {
			mem_free(e);
			return err;
		}
		reg->nthr++;
		e->window_ms = now_ms;
	}
	list_unlink(&e->le);
	list_append(&reg->thr_watch, &e->le);
	e->blk.count++;
	if (e->blk.count >= max) {
		thr_block(reg, e, now_ms);
		return 0;
	}
	end = e->window_ms + reg->conf.fail_window_ms;
	timer_start(reg->tw, &e->tmr, end > now_ms ? end - now_ms : 0, thr_timeout, e);
	return 0;
}

static bool key_blocked(struct reg *reg, const struct str *key, uint64_t now_ms)
{
	struct reg_thr *e = hash_get(reg->thr, key);

	return e && e->blocked && e->blk.until_ms > now_ms;
}

bool reg_thr_blocked(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *domain, uint64_t now_ms)
{
	char kbuf[KEY_SIZE];
	struct str key = thr_key(kbuf, ip, user, domain);

	return key_blocked(reg, &key, now_ms);
}

int reg_thr_fail(struct reg *reg, const char *ip, const struct str *user, const struct str *domain,
		 uint64_t now_ms)
{
	int err = thr_count(reg, ip, user, domain, reg->conf.fail_max_aor, now_ms);

	if (!err)
		err = thr_count(reg, ip, NULL, NULL, reg->conf.fail_max_src, now_ms);
	return err;
}

void reg_thr_success(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *domain)
{
	char kbuf[KEY_SIZE];
	struct str key = thr_key(kbuf, ip, user, domain);
	struct reg_thr *e = hash_get(reg->thr, &key);

	if (e && !e->blocked)
		thr_drop(reg, e);
}

void reg_thr_clear(struct reg *reg)
{
	struct list_elem *le, *tmp;

	list_for_each_safe(&reg->thr_watch, le, tmp)
	{
		thr_drop(reg, list_entry(le, struct reg_thr, le));
	}
	list_for_each_safe(&reg->thr_blocked, le, tmp)
	{
		thr_drop(reg, list_entry(le, struct reg_thr, le));
	}
}

int reg_blocked_list(struct reg *reg, uint64_t now_ms, reg_block_h *h, void *arg)
{
	struct list_elem *le, *tmp;
	int n = 0, err;

	if (!reg || !h)
		return -EINVAL;
	list_for_each_safe(&reg->thr_blocked, le, tmp)
	{
		struct reg_thr *e = list_entry(le, struct reg_thr, le);

		if (e->blk.until_ms <= now_ms)
			continue;
		err = h(&e->blk, arg);
		if (err)
			return err;
		n++;
	}
	return n;
}
