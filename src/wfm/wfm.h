/*
 * wfm: staffing maths for workforce management. Erlang B and C, the Erlang C
 * service metrics and the agents they need, Erlang A (callers who hang up),
 * shrinkage, and chat staffing with concurrency. Pure functions of doubles:
 * no I/O, no state, no allocation except the one work array of Erlang A's
 * service level.
 *
 * It is not a forecaster (the calls per interval come from the caller) nor a
 * scheduler (it says how many agents, not who or when). Formulas, their
 * assumptions and a worked example: docs/WFM.md.
 *
 * Units: times in seconds, traffic in Erlangs (A = calls x AHT / interval:
 * the mean number of agents busy), probabilities and fractions in [0, 1].
 * Every model assumes Poisson arrivals, exponential handle times, identical
 * agents and one first-come first-served queue, in a steady state over the
 * interval.
 *
 * Errors: 0 or -errno; results go to the out-parameters, written only on
 * success. -EINVAL: a NULL pointer, a NaN or infinite value where a finite
 * one is needed, a value outside its documented domain, or 0 agents. -EDOM:
 * Erlang C with A >= N: the queue is unstable (no steady state: the queue
 * grows without bound and every caller waits), not a bad input. -ERANGE: no
 * number of agents up to the search bound meets the target.
 *
 * Threads: any; nothing is shared.
 */
#ifndef WFM_WFM_H
#define WFM_WFM_H

/* Default bound of the agents searches (struct wfm_target.max_agents = 0). */
#define WFM_AGENTS_MAX 100000u
/* Erlang A follows at most this many queue positions (see docs/WFM.md). */
#define WFM_QUEUE_MAX  1000000u

/* The load offered to a queue in one interval. */
struct wfm_traffic {
	double calls;	 /* contacts offered in the interval (lambda x interval), >= 0 */
	double interval; /* length of the interval, seconds, > 0 (1800 for half-hours) */
	double aht;	 /* mean handle time (talk + hold + wrap-up), seconds, > 0 */
};

/* A queue's performance with a given number of agents. */
struct wfm_metrics {
	double erlangs;	      /* A = calls x aht / interval, Erlangs */
	double p_wait;	      /* probability an arriving caller has to wait (all agents busy) */
	double p_abandon;     /* probability a caller hangs up before an answer (0 in Erlang C) */
	double service_level; /* fraction of all offered calls answered within sl_time */
	double asa;	      /* average speed of answer: mean wait of the answered calls,
			       * zero waits included, seconds */
	double occupancy;     /* fraction of the agents' time spent handling calls */
};

/* A staffing goal, e.g. 80% answered in 20 s at no more than 85% occupancy. */
struct wfm_target {
	double service_level; /* fraction in [0, 1] to answer within sl_time, e.g. 0.8 */
	double sl_time;	      /* the threshold T, seconds, >= 0, e.g. 20 */
	double max_occupancy; /* upper bound on occupancy in (0, 1]; 0: no bound */
	double max_abandon;   /* Erlang A only: upper bound on p_abandon in (0, 1]; 0: none */
	unsigned max_agents;  /* the search gives up above this; 0: WFM_AGENTS_MAX */
};

/* @ap = calls x aht / interval (Erlangs). -EINVAL on a bad @t. */
int wfm_erlangs(double *ap, const struct wfm_traffic *t);

/*
 * Erlang B: the probability that a call finding all @n servers busy is
 * blocked, in a loss system (no queue) offered @a Erlangs:
 * B(N, A) = (A^N / N!) / sum_{k=0..N} A^k / k!. Computed with the recurrence
 * B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), whose every step lies in
 * [0, 1]: no factorial, no overflow, O(N). @a >= 0 finite, @n >= 1.
 */
int wfm_erlang_b(double *pb, double a, unsigned n);

/*
 * Erlang C: the probability that a caller waits (all @n agents busy) when
 * @a Erlangs are offered to @n agents with an unlimited, patient queue:
 * C = N B / (N - A (1 - B)), B = B(N, A) as above. -EDOM when @a >= @n
 * (unstable queue).
 */
int wfm_erlang_c(double *pc, double a, unsigned n);

/*
 * Erlang C metrics of @t with @agents agents (N) and the service-level
 * threshold @sl_time (T, seconds, >= 0):
 *   p_wait        = C(N, A)
 *   service_level = P(wait <= T) = 1 - C exp(-(N - A) T / AHT)
 *   asa           = C AHT / (N - A)           (every call is answered)
 *   occupancy     = A / N
 *   p_abandon     = 0
 * -EDOM when A >= N. With no calls: p_wait 0, service level 1, asa 0.
 */
int wfm_erlang_c_metrics(struct wfm_metrics *m, const struct wfm_traffic *t, unsigned agents,
			 double sl_time);

/*
 * The fewest agents for which Erlang C meets @target (service level and,
 * when set, maximum occupancy; max_abandon is ignored): a walk up from the
 * smallest stable count, O(N). 0 when no calls are offered. -ERANGE when
 * even target->max_agents (or WFM_AGENTS_MAX) does not suffice.
 */
int wfm_erlang_c_agents(unsigned *agentsp, const struct wfm_traffic *t,
			const struct wfm_target *target);

/*
 * Erlang A (M/M/N+M, Palm's model): Erlang C's queue where each waiting
 * caller hangs up after an exponentially distributed patience of mean
 * @patience seconds (> 0; INFINITY gives Erlang C, -EDOM included).
 * Stable for any N, even N < A. Birth-death steady state in log space (docs/WFM.md):
 *   pi(k)   = pi(0) A^k / k!                         k <= N
 *   pi(N+j) = pi(N) prod_{i=1..j} lambda / (N mu + i theta)
 * with mu = 1/aht, theta = 1/patience, and
 *   p_wait        = sum_{j>=0} pi(N+j)
 *   p_abandon     = theta E[queue length] / lambda
 *   service_level = P(answered and waited <= T), over all offered calls
 *   asa           = E[wait | answered]
 *   occupancy     = A (1 - p_abandon) / N
 * A caller who finds j others waiting advances at rate N mu + i theta while
 * i are ahead and abandons at rate theta: answered-within-T comes from that
 * chain by uniformization, ASA and P(answered) from exact recurrences.
 * -ENOMEM: the work array (one double per queue position followed);
 * -ERANGE: the queue is longer than WFM_QUEUE_MAX positions (a huge patience
 * with N <= A).
 */
int wfm_erlang_a_metrics(struct wfm_metrics *m, const struct wfm_traffic *t, double patience,
			 unsigned agents, double sl_time);

/*
 * The fewest agents for which Erlang A meets @target (service level, and the
 * maximum occupancy and abandonment when set): a binary search, as each of
 * them moves one way with N. 0 when no calls are offered. -ERANGE, -ENOMEM
 * as above.
 */
int wfm_erlang_a_agents(unsigned *agentsp, const struct wfm_traffic *t, double patience,
			const struct wfm_target *target);

/*
 * Shrinkage: the share of paid time agents are not available for contacts
 * (breaks, training, meetings, absence), in [0, 1). Scheduled agents =
 * ceil(required / (1 - shrinkage)). -ERANGE if that exceeds UINT_MAX.
 */
int wfm_scheduled(unsigned *scheduledp, unsigned required, double shrinkage);

/*
 * Chat staffing, an APPROXIMATION (docs/WFM.md): an agent who takes up to
 * @concurrency chats at once is counted as that many servers of an Erlang C
 * queue, and a chat lasts longer when it shares its agent:
 *   handle time at concurrency k = aht x (1 + slowdown x (k - 1))
 * where traffic.aht is the mean chat duration with one chat per agent, and
 * @slowdown in [0, 1] is measured from the records (0: sharing costs
 * nothing, so k chats are k agents; 1: a chat lasts k times longer, so
 * concurrency gains nothing). Servers come from wfm_erlang_c_agents() (with
 * target's occupancy read per chat slot and max_agents per agent); agents =
 * ceil(servers / k).
 */
struct wfm_chat {
	struct wfm_traffic traffic; /* chats offered, interval, single-chat handle time */
	unsigned concurrency;	    /* k, chats an agent handles at once, >= 1 */
	double slowdown;	    /* in [0, 1], see above */
};
int wfm_chat_agents(unsigned *agentsp, const struct wfm_chat *chat,
		    const struct wfm_target *target);

#endif
