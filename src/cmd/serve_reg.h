/*
 * serve_reg: the registrar (src/reg) bound to the store (src/store) for
 * `shenggu serve`: tenants and HA1 credentials are looked up in the store,
 * binding changes are written to it and loaded back at start-up, so a
 * restart keeps every registration.
 *
 * Binding writes go to a writer thread with its own database connection:
 * the event loop queues each change and goes on; the writer takes whatever
 * is queued, after SERVE_REG_LINGER_MS for more to gather, and writes it in
 * one transaction (one fsync, SQLite WAL with synchronous=FULL), so batches
 * grow with the load and the loop never waits for the disk. A REGISTER is answered before its
 * binding reaches the disk: a kill -9 loses at most the changes of the commit in progress and of
 * the queue behind it, and the phones re-register; a write per REGISTER on the loop would cap the
 * registrar at the disk's fsync rate.
 *
 * Lookups (tenant by domain, HA1 by user) are cached in memory for
 * SERVE_REG_CACHE_MS, unknown ones included, so the registrar's hot path
 * does not touch SQLite (whose page cache the writer's commits keep
 * invalidating): a change made by provisioning, a new password or a
 * removed user, takes effect within that time. At most SERVE_REG_CACHE_MAX
 * entries; the oldest go first.
 *
 * Threads: everything but the writer runs on the event loop's thread.
 * Queued changes are allocated there and freed by the writer (base/mem's
 * counters are per thread, so the two threads' counts do not balance
 * apart; together they do).
 */
#ifndef SERVE_REG_H
#define SERVE_REG_H

#include <stdbool.h>

#include "base/timer.h"
#include "reg/reg.h"
#include "store/store.h"

/* How long the writer lets changes gather before a commit. */
#define SERVE_REG_LINGER_MS 10
#define SERVE_REG_CACHE_MS  5000
#define SERVE_REG_CACHE_MAX 262144

struct serve_reg;

/*
 * A registrar whose ops use @st (borrowed: it must outlive @srp), with the
 * bindings stored in @st restored (expired ones deleted), and a writer
 * thread on a connection of its own to @db_url (the database of @st).
 * @digest: the challenges a 401 carries (see enum reg_digest). 0 or -errno.
 */
int serve_reg_alloc(struct serve_reg **srp, struct store *st, const char *db_url,
		    struct timer_wheel *tw, enum reg_digest digest);
/* The registrar, for reg_request() and lookups. */
struct reg *serve_reg_reg(struct serve_reg *sr);
/* Free the registrar, write what is queued and stop the writer (bindings
 * stay stored). NULL is fine. */
void serve_reg_free(struct serve_reg *sr);
/* Every binding made, refreshed (@removed false) or removed, as it happens:
 * the API's event stream. @h NULL stops. */
typedef void(serve_reg_event_h)(void *arg, const struct reg_binding *b, bool removed);
void serve_reg_listen(struct serve_reg *sr, serve_reg_event_h *h, void *arg);

#endif
