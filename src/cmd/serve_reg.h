/*
 * serve_reg: the registrar (src/reg) bound to the store (src/store) for
 * `shenggu serve`: tenants and HA1 credentials are looked up in the store,
 * binding changes are written to it and loaded back at start-up, so a
 * restart keeps every registration.
 *
 * Binding writes are batched: changes are queued and written in one
 * transaction (one fsync, SQLite WAL with synchronous=FULL) every
 * SERVE_REG_FLUSH_MS or every SERVE_REG_FLUSH_MAX changes, whichever comes
 * first, and on shutdown. A kill -9 can lose at most the changes of the last
 * interval: phones re-register, while a write per REGISTER would cap the
 * registrar at the disk's fsync rate.
 */
#ifndef SERVE_REG_H
#define SERVE_REG_H

#include <stdbool.h>

#include "base/timer.h"
#include "reg/reg.h"
#include "store/store.h"

#define SERVE_REG_FLUSH_MS  20
#define SERVE_REG_FLUSH_MAX 1024

struct serve_reg;

/*
 * A registrar whose ops use @st (borrowed: it must outlive @srp), with the
 * bindings stored in @st restored (expired ones deleted). @digest: the
 * challenges a 401 carries (see enum reg_digest). 0 or -errno.
 */
int serve_reg_alloc(struct serve_reg **srp, struct store *st, struct timer_wheel *tw,
		    enum reg_digest digest);
/* The registrar, for reg_request() and lookups. */
struct reg *serve_reg_reg(struct serve_reg *sr);
/* Write what is queued now. */
void serve_reg_flush(struct serve_reg *sr);
/* Flush, free the registrar (bindings stay stored). NULL is fine. */
void serve_reg_free(struct serve_reg *sr);

#endif
