/*
 * Helpers shared by the ACD tests: a recorder that keeps the engine's
 * decisions in a fixed array (no allocation, so --oom counts only the
 * engine's) and a one-queue set-up.
 */
#ifndef TEST_ACD_H
#define TEST_ACD_H

#include "acd/acd.h"

#define REC_MAX 512

struct rec {
	struct acd_decision d[REC_MAX];
	unsigned n;
	unsigned lost;
};

void rec_h(const struct acd_decision *d, void *arg);
void rec_clear(struct rec *r);
/* Count of @type since the last clear (agent 0 / task 0: any). */
unsigned rec_count(const struct rec *r, enum acd_dec_type type, uint64_t task, uint32_t agent);
/* The @nth (0-based) decision of @type, or NULL. */
const struct acd_decision *rec_nth(const struct rec *r, enum acd_dec_type type, unsigned nth);

/* Agent ids 1..n in queue 1 (penalty 0), skill 0 at level 5, logged in at t=0. */
int acd_setup(struct acd **acdp, struct rec *r, const struct acd_queue_conf *qc, unsigned n);

#endif
