/*
 * serve_reg: the registrar (src/reg) bound to the store (src/store) for
 * `shenggu serve`: tenants and HA1 credentials are looked up in the store,
 * bindings are written through to it as they change and loaded back at
 * start-up, so a restart keeps every registration.
 *
 * Writes are synchronous on the worker thread for now (SQLite in WAL mode
 * with synchronous=FULL): a 200 is sent only after its bindings are on disk.
 */
#ifndef SERVE_REG_H
#define SERVE_REG_H

#include "base/timer.h"
#include "reg/reg.h"
#include "store/store.h"

/*
 * A registrar whose ops use @st (borrowed: it must outlive the registrar),
 * with the bindings stored in @st restored (expired ones deleted).
 * @md5_first: challenge with MD5 before SHA-256 (see struct reg_conf).
 * 0 or -errno; *@regp on success.
 */
int serve_reg_alloc(struct reg **regp, struct store *st, struct timer_wheel *tw, bool md5_first);

#endif
