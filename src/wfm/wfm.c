/*
 * wfm: Erlang B, C and A, shrinkage and chat staffing (wfm.h). Every
 * quantity is computed from recurrences whose terms stay in range (Erlang
 * B's lies in [0, 1]; Erlang A's queue weights are summed in log space), so
 * thousands of agents and Erlangs need no factorial and never overflow.
 * Formulas and their derivations: docs/WFM.md.
 *
 * This file does not forecast or schedule; it only counts agents.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>

#include "base/mem.h"
#include "wfm/wfm.h"

/* Terms of a sum smaller than exp(-WEIGHT_CUT) times the largest are dropped. */
#define WEIGHT_CUT	  45.0
/* Poisson tail below which Erlang A's uniformization stops. */
#define POISSON_TAIL	  1e-16
/* Erlang A's uniformization gives up (-ERANGE) beyond this many steps: a
 * patience tiny against the handle time with a long queue. */
#define UNIFORM_STEPS_MAX 1e7

static bool finite_nonneg(double x)
{
	return isfinite(x) && x >= 0.0;
}

static int traffic_check(const struct wfm_traffic *t)
{
	if (!t || !finite_nonneg(t->calls) || !isfinite(t->interval) || t->interval <= 0.0 ||
	    !isfinite(t->aht) || t->aht <= 0.0)
		return -EINVAL;
	return 0;
}

static int target_check(const struct wfm_target *target)
{
	if (!target || !finite_nonneg(target->service_level) || target->service_level > 1.0 ||
	    !finite_nonneg(target->sl_time) || !finite_nonneg(target->max_occupancy) ||
	    target->max_occupancy > 1.0 || !finite_nonneg(target->max_abandon) ||
	    target->max_abandon > 1.0)
		return -EINVAL;
	return 0;
}

static unsigned target_max_agents(const struct wfm_target *target)
{
	return target->max_agents ? target->max_agents : WFM_AGENTS_MAX;
}

int wfm_erlangs(double *ap, const struct wfm_traffic *t)
{
	int err = traffic_check(t);

	if (err || !ap)
		return err ? err : -EINVAL;
	*ap = t->calls * t->aht / t->interval;
	if (!isfinite(*ap))
		return -EINVAL;
	return 0;
}

/* One step of Erlang B's recurrence: B(k) from B(k-1). Stays in [0, 1]. */
static double erlang_b_step(double b, double a, unsigned k)
{
	double ab = a * b;

	return ab / ((double)k + ab);
}

static double erlang_b_calc(double a, unsigned n)
{
	double b = 1.0;

	for (unsigned k = 1; k <= n; k++)
		b = erlang_b_step(b, a, k);
	return b;
}

int wfm_erlang_b(double *pb, double a, unsigned n)
{
	if (!pb || !finite_nonneg(a) || n == 0)
		return -EINVAL;
	*pb = erlang_b_calc(a, n);
	return 0;
}

/* C from B; the caller has checked a < n, so the denominator is > 0. */
static double erlang_c_from_b(double b, double a, unsigned n)
{
	double c = (double)n * b / ((double)n - a * (1.0 - b));

	return c > 1.0 ? 1.0 : c;
}

int wfm_erlang_c(double *pc, double a, unsigned n)
{
	if (!pc || !finite_nonneg(a) || n == 0)
		return -EINVAL;
	if (a >= (double)n)
		return -EDOM;
	*pc = erlang_c_from_b(erlang_b_calc(a, n), a, n);
	return 0;
}

/* Service level and ASA of Erlang C from C; a < n. */
static void erlang_c_fill(struct wfm_metrics *m, double c, double a, unsigned n, double aht,
			  double sl_time)
{
	double gap = (double)n - a;

	m->erlangs = a;
	m->p_wait = c;
	m->p_abandon = 0.0;
	m->service_level = 1.0 - c * exp(-gap * sl_time / aht);
	m->asa = c * aht / gap;
	m->occupancy = a / (double)n;
}

int wfm_erlang_c_metrics(struct wfm_metrics *m, const struct wfm_traffic *t, unsigned agents,
			 double sl_time)
{
	struct wfm_metrics r;
	double a;
	int err;

	if (!m || agents == 0 || !finite_nonneg(sl_time))
		return -EINVAL;
	err = wfm_erlangs(&a, t);
	if (err)
		return err;
	if (a >= (double)agents)
		return -EDOM;
	erlang_c_fill(&r, erlang_c_from_b(erlang_b_calc(a, agents), a, agents), a, agents, t->aht,
		      sl_time);
	*m = r;
	return 0;
}

static bool meets(const struct wfm_metrics *m, const struct wfm_target *target, bool abandon)
{
	if (m->service_level < target->service_level)
		return false;
	if (target->max_occupancy > 0.0 && m->occupancy > target->max_occupancy)
		return false;
	if (abandon && target->max_abandon > 0.0 && m->p_abandon > target->max_abandon)
		return false;
	return true;
}

int wfm_erlang_c_agents(unsigned *agentsp, const struct wfm_traffic *t,
			const struct wfm_target *target)
{
	unsigned max, n, start;
	double a, b = 1.0;
	int err;

	err = target_check(target);
	if (err || !agentsp)
		return err ? err : -EINVAL;
	err = wfm_erlangs(&a, t);
	if (err)
		return err;
	if (a == 0.0) {
		*agentsp = 0;
		return 0;
	}
	max = target_max_agents(target);
	/* The smallest stable count; below it there is no steady state. */
	if (a >= (double)max)
		return -ERANGE;
	start = (unsigned)floor(a) + 1;
	/* Service level rises with N and occupancy falls, so the first N that
	 * meets both is the answer. B(N) follows from B(N - 1) in one step, so
	 * the whole walk costs O(answer). */
	for (n = 1; n < start; n++)
		b = erlang_b_step(b, a, n);
	for (n = start; n <= max; n++) {
		struct wfm_metrics m;

		b = erlang_b_step(b, a, n);
		erlang_c_fill(&m, erlang_c_from_b(b, a, n), a, n, t->aht, target->sl_time);
		if (meets(&m, target, false)) {
			*agentsp = n;
			return 0;
		}
	}
	return -ERANGE;
}

/* log(e^x + e^y) without overflow; either may be minus infinity (log 0). */
static double log_add(double x, double y)
{
	if (x < y) {
		double tmp = x;

		x = y;
		y = tmp;
	}
	if (isinf(y))
		return x;
	return x + log1p(exp(y - x));
}

/*
 * Erlang A, dimensionless: with theta = 1/patience, x = N mu / theta and
 * y = lambda / theta, the queue weights relative to pi(N) are
 * w(j) = prod_{i=1..j} y / (x + i). They rise while i < y - x (more callers
 * than agents) and then fall faster than geometrically, so the queue is
 * followed until it is past the peak and the weight is e^-45 of the peak.
 */
static int erlang_a_calc(struct wfm_metrics *m, double a, double lambda, double aht,
			 double patience, unsigned n, double sl_time)
{
	double x = (double)n * patience / aht, y = lambda * patience;
	double mu_n = (double)n / aht, theta = 1.0 / patience;
	double lw = 0.0, lmax = 0.0, s = 1.0, b, lpn, eq = 0.0, served_wait = 0.0;
	double asa_num = 0.0, sv = 1.0, mv = 0.0, p_wait, p_ab, reached = 0.0;
	double *u;
	unsigned j, jmax;

	b = erlang_b_calc(a, n);
	if (b == 0.0) {
		/* B underflowed (N far above A): no caller ever waits. */
		m->erlangs = a;
		m->p_wait = 0.0;
		m->p_abandon = 0.0;
		m->service_level = 1.0;
		m->asa = 0.0;
		m->occupancy = a / (double)n;
		return 0;
	}

	/* Pass 1: the length followed (jmax) and log sum_j w(j) = lmax + log s. */
	for (j = 1;; j++) {
		lw += log(y / (x + (double)j));
		if (lw > lmax) {
			s = s * exp(lmax - lw) + 1.0;
			lmax = lw;
		} else {
			s += exp(lw - lmax);
		}
		if ((double)j > y - x && lw < lmax - WEIGHT_CUT)
			break;
		if (j >= WFM_QUEUE_MAX)
			return -ERANGE;
	}
	jmax = j;

	/* pi(N) = 1 / (sum_{k<N} pi(k)/pi(N) + sum_j w(j)), and the first sum
	 * is 1/B - 1 with B = B(N, A): Erlang B again, in [0, 1]. */
	lpn = -log_add(log(1.0 / b - 1.0), lmax + log(s));
	p_wait = exp(lpn + lmax + log(s));

	u = mem_alloc(((size_t)jmax + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;

	/* Pass 2: a caller arriving to N + j finds j ahead (PASTA). With i
	 * ahead it moves up at rate r(i) = N mu + i theta and abandons at rate
	 * theta: sv = P(answered | j ahead) and mv = E[wait; answered | j ahead]
	 * follow from j - 1 (docs/WFM.md), u[j] keeps pi(N + j). */
	lw = 0.0;
	for (j = 0; j <= jmax; j++) {
		double r = mu_n + (double)j * theta, q = r + theta, pj;

		if (j > 0)
			lw += log(y / (x + (double)j));
		pj = exp(lpn + lw);
		u[j] = pj;
		eq += (double)j * pj;
		sv *= r / q;
		mv = sv / q + (r / q) * mv;
		served_wait += pj * sv;
		asa_num += pj * mv;
	}
	p_ab = eq / y;
	if (p_ab > 1.0)
		p_ab = 1.0;

	/* Answered within T by uniformization: the chain over positions,
	 * v(i)' = -(r(i) + theta) v(i) + r(i+1) v(i+1), run with the rate
	 * big = r(jmax) + theta so every step mixes with non-negative weights;
	 * answered by T = (r(0) / big) sum_k v_k(0) P(Poisson(big T) > k). */
	if (sl_time > 0.0) {
		double big = mu_n + (double)(jmax + 1) * theta, bt = big * sl_time;
		/* Poisson(bt) pmf in log space (e^-bt underflows past 745) and
		 * tail = P(Poisson > k) = 1 - cdf: absolute error ~ k ulp. */
		double lt = log(bt), lpk = -bt, cdf = exp(lpk), tail = 1.0 - cdf;
		double kmax = bt + 40.0 * sqrt(bt) + 100.0;

		if (kmax > UNIFORM_STEPS_MAX) {
			mem_free(u);
			return -ERANGE;
		}
		for (unsigned k = 0; k <= (unsigned)kmax; k++) {
			/* Mass moves one position per step at most, so positions
			 * beyond the steps left can no longer reach the head. */
			unsigned jlim = (unsigned)kmax - k < jmax ? (unsigned)kmax - k : jmax;

			reached += u[0] * (tail > 0.0 ? tail : 0.0);
			if ((double)k > bt && tail < POISSON_TAIL)
				break;
			for (j = 0; j <= jlim; j++) {
				double r = mu_n + (double)j * theta;
				double in = j < jmax ? u[j + 1] * (r + theta) / big : 0.0;

				u[j] = u[j] * (1.0 - (r + theta) / big) + in;
			}
			lpk += lt - log((double)k + 1.0);
			cdf += exp(lpk);
			tail = 1.0 - cdf;
		}
		reached *= mu_n / big;
	}

	m->erlangs = a;
	m->p_wait = p_wait;
	m->p_abandon = p_ab;
	m->service_level = fmax(0.0, fmin(1.0, 1.0 - p_wait + reached));
	m->asa = asa_num / (1.0 - p_wait + served_wait);
	m->occupancy = fmin(1.0, a * (1.0 - p_ab) / (double)n);
	mem_free(u);
	return 0;
}

static int erlang_a_metrics(struct wfm_metrics *m, const struct wfm_traffic *t, double a,
			    double patience, unsigned agents, double sl_time)
{
	if (a == 0.0) {
		*m = (struct wfm_metrics){.service_level = 1.0};
		return 0;
	}
	if (isinf(patience)) {
		if (a >= (double)agents)
			return -EDOM;
		erlang_c_fill(m, erlang_c_from_b(erlang_b_calc(a, agents), a, agents), a, agents,
			      t->aht, sl_time);
		return 0;
	}
	return erlang_a_calc(m, a, t->calls / t->interval, t->aht, patience, agents, sl_time);
}

static bool patience_ok(double patience)
{
	return !isnan(patience) && patience > 0.0;
}

int wfm_erlang_a_metrics(struct wfm_metrics *m, const struct wfm_traffic *t, double patience,
			 unsigned agents, double sl_time)
{
	struct wfm_metrics r;
	double a;
	int err;

	if (!m || agents == 0 || !finite_nonneg(sl_time) || !patience_ok(patience))
		return -EINVAL;
	err = wfm_erlangs(&a, t);
	if (err)
		return err;
	err = erlang_a_metrics(&r, t, a, patience, agents, sl_time);
	if (err)
		return err;
	*m = r;
	return 0;
}

int wfm_erlang_a_agents(unsigned *agentsp, const struct wfm_traffic *t, double patience,
			const struct wfm_target *target)
{
	struct wfm_metrics m;
	unsigned lo = 1, hi;
	double a;
	int err;

	if (!agentsp || !patience_ok(patience))
		return -EINVAL;
	err = target_check(target);
	if (err)
		return err;
	err = wfm_erlangs(&a, t);
	if (err)
		return err;
	if (a == 0.0) {
		*agentsp = 0;
		return 0;
	}
	if (isinf(patience))
		return wfm_erlang_c_agents(agentsp, t, target);
	hi = target_max_agents(target);
	err = erlang_a_metrics(&m, t, a, patience, hi, target->sl_time);
	if (err)
		return err;
	if (!meets(&m, target, true))
		return -ERANGE;
	/* Invariant: hi meets the target; every count below lo does not. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		err = erlang_a_metrics(&m, t, a, patience, mid, target->sl_time);
		/* -ERANGE: a queue longer than WFM_QUEUE_MAX positions at this N
		 * (N < A with a huge patience), which no target accepts. */
		if (err && err != -ERANGE)
			return err;
		if (!err && meets(&m, target, true))
			hi = mid;
		else
			lo = mid + 1;
	}
	*agentsp = hi;
	return 0;
}

int wfm_scheduled(unsigned *scheduledp, unsigned required, double shrinkage)
{
	double x;

	if (!scheduledp || !finite_nonneg(shrinkage) || shrinkage >= 1.0)
		return -EINVAL;
	x = (double)required / (1.0 - shrinkage);
	/* 8 / (1 - 0.2) must give 10, not 11: forgive rounding of 1 - s. */
	x = ceil(x - x * 1e-12);
	if (x > (double)UINT_MAX)
		return -ERANGE;
	*scheduledp = (unsigned)x;
	return 0;
}

int wfm_chat_agents(unsigned *agentsp, const struct wfm_chat *chat, const struct wfm_target *target)
{
	struct wfm_traffic slots;
	struct wfm_target slot_target;
	unsigned k, servers;
	double max_servers;
	int err;

	if (!agentsp || !chat || chat->concurrency == 0 || !finite_nonneg(chat->slowdown) ||
	    chat->slowdown > 1.0)
		return -EINVAL;
	err = traffic_check(&chat->traffic);
	if (err)
		return err;
	err = target_check(target);
	if (err)
		return err;
	k = chat->concurrency;
	slots = chat->traffic;
	slots.aht = chat->traffic.aht * (1.0 + chat->slowdown * (double)(k - 1));
	slot_target = *target;
	max_servers = (double)target_max_agents(target) * (double)k;
	slot_target.max_agents = max_servers > (double)UINT_MAX ? UINT_MAX : (unsigned)max_servers;
	err = wfm_erlang_c_agents(&servers, &slots, &slot_target);
	if (err)
		return err;
	*agentsp = servers / k + (servers % k != 0);
	return 0;
}
