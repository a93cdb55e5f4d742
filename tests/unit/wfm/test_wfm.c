/*
 * Unit tests for the staffing maths (wfm.h). Every expected value was
 * computed independently in Python: Erlang B and C exactly in rational
 * arithmetic from the factorial definition (fractions.Fraction), their
 * exponentials with decimal.Decimal at 120 digits; Erlang A by a direct
 * birth-death solution in Decimal, abandonment both as theta E[Q] / lambda
 * and as 1 - P(answered), and the service level from the hypoexponential
 * waiting time by partial fractions (docs/WFM.md, "Verification").
 */
#include <math.h>

#include "test.h"
#include "wfm/wfm.h"

#define TEST_NEAR(exp, act, tol)                                                                 \
	do {                                                                                     \
		double e_ = (exp), a_ = (act);                                                   \
		if (!(fabs(e_ - a_) <= (tol))) {                                                 \
			test_fail(__FILE__, __LINE__, "%s: expected %.10g, got %.10g", #act, e_, \
				  a_);                                                           \
			err = -EINVAL;                                                           \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* As doubles: INFINITY and NAN are floats, and -Wdouble-promotion objects. */
#define INF	     HUGE_VAL
#define NOT_A_NUMBER ((double)NAN)

#define TEST_PROB(x) TEST_ASSERT(isfinite(x) && (x) >= 0.0 && (x) <= 1.0)

/* The Erlang C example used in many call-centre texts (e.g.
 * callcentrehelper.com's): 360 calls per 30 minutes, AHT 240 s, A = 48. */
static const struct wfm_traffic example = {.calls = 360, .interval = 1800, .aht = 240};

TEST(test_wfm_erlang_b)
{
	double b = -1;
	int err = 0;

	/* Standard tables: B(N = 10, A = 10) = 0.2146. */
	TEST_ERR(wfm_erlang_b(&b, 10, 10));
	TEST_NEAR(0.2145823431, b, 1e-9);
	TEST_ERR(wfm_erlang_b(&b, 100, 110));
	TEST_NEAR(0.0274634484, b, 1e-9);
	TEST_ERR(wfm_erlang_b(&b, 48, 55));
	TEST_NEAR(0.0383742807, b, 1e-9);
	/* Thousands of servers: 2050! alone would overflow a double. */
	TEST_ERR(wfm_erlang_b(&b, 2000, 2050));
	TEST_NEAR(0.0054463189, b, 1e-9);
	TEST_ERR(wfm_erlang_b(&b, 0, 3));
	TEST_NEAR(0.0, b, 0.0);
	/* Far more servers than traffic: underflows to 0, never NaN. */
	TEST_ERR(wfm_erlang_b(&b, 1, 5000));
	TEST_PROB(b);
out:
	return err;
}

TEST(test_wfm_erlang_c_example)
{
	struct wfm_metrics m;
	double a = 0, c = 0;
	int err = 0;

	TEST_ERR(wfm_erlangs(&a, &example));
	TEST_NEAR(48.0, a, 1e-12);
	TEST_ERR(wfm_erlang_c(&c, 48, 55));
	TEST_NEAR(0.2387009364, c, 1e-9);

	TEST_ERR(wfm_erlang_c_metrics(&m, &example, 55, 20));
	TEST_NEAR(48.0, m.erlangs, 1e-12);
	TEST_NEAR(0.2387009364, m.p_wait, 1e-9);
	TEST_NEAR(0.8667964882, m.service_level, 1e-9);
	TEST_NEAR(8.1840321044, m.asa, 1e-8);
	TEST_NEAR(0.8727272727, m.occupancy, 1e-9);
	TEST_NEAR(0.0, m.p_abandon, 0.0);

	TEST_ERR(wfm_erlang_c_metrics(&m, &example, 54, 20));
	TEST_NEAR(0.3013078994, m.p_wait, 1e-9);
	TEST_NEAR(0.8172475210, m.service_level, 1e-9);
	TEST_NEAR(12.0523159751, m.asa, 1e-8);

	TEST_ERR(wfm_erlang_c_metrics(&m, &example, 50, 20));
	TEST_NEAR(0.6944556112, m.p_wait, 1e-9);
	TEST_NEAR(0.4121560164, m.service_level, 1e-9);
	TEST_NEAR(83.3346733436, m.asa, 1e-7);

	/* T = 0: the service level is the share that does not wait. */
	TEST_ERR(wfm_erlang_c_metrics(&m, &example, 55, 0));
	TEST_NEAR(1.0 - 0.2387009364, m.service_level, 1e-9);
out:
	return err;
}

TEST(test_wfm_erlang_c_agents)
{
	struct wfm_target target = {.service_level = 0.8, .sl_time = 20};
	struct wfm_traffic none = {.calls = 0, .interval = 1800, .aht = 240};
	unsigned n = 0;
	int err = 0;

	/* 80/20: 54 agents give 81.7%, 53 fewer than 80%. */
	TEST_ERR(wfm_erlang_c_agents(&n, &example, &target));
	TEST_EQUALS(54, n);
	/* 90/20: 56 agents (90.4%; 55 give 86.7%). */
	target.service_level = 0.9;
	TEST_ERR(wfm_erlang_c_agents(&n, &example, &target));
	TEST_EQUALS(56, n);
	/* ...at most 85% occupancy: 48 / 56 = 85.7%, so 57. */
	target.max_occupancy = 0.85;
	TEST_ERR(wfm_erlang_c_agents(&n, &example, &target));
	TEST_EQUALS(57, n);
	target.max_agents = 56;
	TEST_EQUALS(-ERANGE, wfm_erlang_c_agents(&n, &example, &target));
	target.max_agents = 0;
	TEST_ERR(wfm_erlang_c_agents(&n, &none, &target));
	TEST_EQUALS(0, n);
out:
	return err;
}

TEST(test_wfm_erlang_c_large)
{
	/* 2000 Erlangs: 15000 calls per half hour of 240 s each. */
	struct wfm_traffic big = {.calls = 15000, .interval = 1800, .aht = 240};
	struct wfm_target target = {.service_level = 0.8, .sl_time = 20};
	struct wfm_metrics m;
	double c = 0;
	unsigned n = 0;
	int err = 0;

	TEST_ERR(wfm_erlang_c(&c, 2000, 2050));
	TEST_NEAR(0.1833547387, c, 1e-8);
	TEST_ERR(wfm_erlang_c_metrics(&m, &big, 2050, 20));
	TEST_PROB(m.p_wait);
	TEST_PROB(m.service_level);
	TEST_ASSERT(isfinite(m.asa) && m.asa >= 0);
	TEST_ERR(wfm_erlang_c_agents(&n, &big, &target));
	TEST_ASSERT(n > 2000 && n <= 2050);
	/* Unstable: A >= N is reported, not computed. */
	TEST_EQUALS(-EDOM, wfm_erlang_c(&c, 2000, 2000));
	TEST_EQUALS(-EDOM, wfm_erlang_c(&c, 48, 40));
	TEST_EQUALS(-EDOM, wfm_erlang_c_metrics(&m, &example, 48, 20));
out:
	return err;
}

/* Erlang A at the example's 48 Erlangs, T = 20 s (Python, see the top). */
static const struct {
	double patience;
	unsigned agents;
	double p_wait, p_abandon, service_level, asa, occupancy;
} erlang_a_cases[] = {
    {120, 50, 0.3423088034, 0.0480217742, 0.8505951483, 5.3383671738, 0.9138990967},
    {600, 55, 0.1993454311, 0.0075388829, 0.9079427282, 4.4021064443, 0.8661478840},
    /* Understaffed (45 < A): stable with abandonment, unlike Erlang C. */
    {120, 45, 0.5828508952, 0.1038022651, 0.6703247407, 11.9064485592, 0.9559442505},
};

TEST(test_wfm_erlang_a_example)
{
	struct wfm_metrics m;
	int err = 0;

	for (size_t i = 0; i < sizeof(erlang_a_cases) / sizeof(erlang_a_cases[0]); i++) {
		err = wfm_erlang_a_metrics(&m, &example, erlang_a_cases[i].patience,
					   erlang_a_cases[i].agents, 20);
		TEST_ERR(err);
		TEST_NEAR(erlang_a_cases[i].p_wait, m.p_wait, 1e-8);
		TEST_NEAR(erlang_a_cases[i].p_abandon, m.p_abandon, 1e-8);
		TEST_NEAR(erlang_a_cases[i].service_level, m.service_level, 1e-8);
		TEST_NEAR(erlang_a_cases[i].asa, m.asa, 1e-6);
		TEST_NEAR(erlang_a_cases[i].occupancy, m.occupancy, 1e-8);
	}
out:
	return err;
}

TEST(test_wfm_erlang_a_to_c)
{
	struct wfm_metrics a, c;
	int err = 0;

	/* As patience grows without bound Erlang A becomes Erlang C. */
	TEST_ERR(wfm_erlang_c_metrics(&c, &example, 55, 20));
	err = wfm_erlang_a_metrics(&a, &example, 1e7, 55, 20);
	TEST_ERR(err);
	TEST_NEAR(c.p_wait, a.p_wait, 1e-5);
	TEST_NEAR(c.service_level, a.service_level, 1e-5);
	TEST_NEAR(c.asa, a.asa, 1e-3);
	TEST_NEAR(c.occupancy, a.occupancy, 1e-5);
	TEST_ASSERT(a.p_abandon > 0 && a.p_abandon < 1e-5);
	/* Python: 8.18e-7. */
	TEST_NEAR(8.183472816e-7, a.p_abandon, 1e-10);
	err = wfm_erlang_a_metrics(&a, &example, INF, 55, 20);
	TEST_ERR(err);
	TEST_NEAR(c.p_wait, a.p_wait, 0.0);
	TEST_NEAR(c.service_level, a.service_level, 0.0);
out:
	return err;
}

TEST(test_wfm_erlang_a_large)
{
	struct wfm_traffic big = {.calls = 15000, .interval = 1800, .aht = 240};
	struct wfm_metrics m;
	int err = 0;

	/* 2000 Erlangs on 1950 agents: at least the fluid excess
	 * (2000 - 1950) / 2000 = 2.5% must abandon. */
	err = wfm_erlang_a_metrics(&m, &big, 180, 1950, 20);
	TEST_ERR(err);
	TEST_PROB(m.p_wait);
	TEST_PROB(m.service_level);
	TEST_PROB(m.occupancy);
	TEST_ASSERT(m.p_abandon >= 0.025 && m.p_abandon < 0.1);
	TEST_ASSERT(isfinite(m.asa) && m.asa >= 0);
	/* Python's birth-death in 120 digits. */
	TEST_NEAR(0.8273371245, m.p_wait, 1e-8);
	TEST_NEAR(0.0269518277, m.p_abandon, 1e-8);
	TEST_NEAR(0.9979981255, m.occupancy, 1e-8);
	err = wfm_erlang_a_metrics(&m, &big, 180, 2050, 20);
	TEST_ERR(err);
	TEST_PROB(m.p_wait);
	TEST_PROB(m.service_level);
	TEST_PROB(m.p_abandon);
	TEST_NEAR(0.1268827343, m.p_wait, 1e-8);
	TEST_NEAR(0.0017287801, m.p_abandon, 1e-9);
	TEST_NEAR(0.9739231413, m.occupancy, 1e-8);
out:
	return err;
}

TEST(test_wfm_erlang_a_agents)
{
	struct wfm_target target = {.service_level = 0.8, .sl_time = 20};
	struct wfm_metrics m;
	unsigned n = 0;
	int err = 0;

	/* Python: 49 agents answer 82.08% within 20 s, 48 only 78.77%. */
	err = wfm_erlang_a_agents(&n, &example, 120, &target);
	TEST_ERR(err);
	TEST_EQUALS(49, n);
	/* At most 3% abandoned: more agents. */
	target.max_abandon = 0.03;
	err = wfm_erlang_a_agents(&n, &example, 120, &target);
	TEST_ERR(err);
	err = wfm_erlang_a_metrics(&m, &example, 120, n, 20);
	TEST_ERR(err);
	TEST_ASSERT(m.p_abandon <= 0.03);
	err = wfm_erlang_a_metrics(&m, &example, 120, n - 1, 20);
	TEST_ERR(err);
	TEST_ASSERT(m.p_abandon > 0.03);
	/* Infinite patience: Erlang C's answer. */
	target.max_abandon = 0;
	err = wfm_erlang_a_agents(&n, &example, INF, &target);
	TEST_ERR(err);
	TEST_EQUALS(54, n);
	target.max_agents = 40;
	TEST_EQUALS(-ERANGE, wfm_erlang_a_agents(&n, &example, 120, &target));
out:
	return err;
}

TEST(test_wfm_shrinkage)
{
	unsigned n = 0;
	int err = 0;

	TEST_ERR(wfm_scheduled(&n, 10, 0.2));
	TEST_EQUALS(13, n); /* 12.5 */
	TEST_ERR(wfm_scheduled(&n, 8, 0.2));
	TEST_EQUALS(10, n); /* exactly 10, despite 1 - 0.2 in binary */
	TEST_ERR(wfm_scheduled(&n, 54, 0.3));
	TEST_EQUALS(78, n); /* 77.14 */
	TEST_ERR(wfm_scheduled(&n, 54, 0));
	TEST_EQUALS(54, n);
	TEST_ERR(wfm_scheduled(&n, 0, 0.5));
	TEST_EQUALS(0, n);
	TEST_EQUALS(-ERANGE, wfm_scheduled(&n, 4000000000u, 0.5));
	TEST_EQUALS(-EINVAL, wfm_scheduled(&n, 10, 1.0));
	TEST_EQUALS(-EINVAL, wfm_scheduled(&n, 10, -0.1));
	TEST_EQUALS(-EINVAL, wfm_scheduled(&n, 10, NOT_A_NUMBER));
out:
	return err;
}

TEST(test_wfm_chat)
{
	/* 120 chats per half hour, 600 s each alone; 3 at once, each then
	 * lasting 600 x (1 + 0.5 x 2) = 1200 s: 80 Erlangs of chat slots. */
	struct wfm_chat chat = {
	    .traffic = {.calls = 120, .interval = 1800, .aht = 600},
	    .concurrency = 3,
	    .slowdown = 0.5,
	};
	struct wfm_target target = {.service_level = 0.8, .sl_time = 60};
	unsigned n = 0, one = 0;
	int err = 0;

	/* 88 slots (Python: 80.98% in 60 s; 87 give less than 80%) = 29.3
	 * agents. */
	TEST_ERR(wfm_chat_agents(&n, &chat, &target));
	TEST_EQUALS(30, n);
	/* Concurrency 1 is plain Erlang C on the single-chat handle time. */
	chat.concurrency = 1;
	TEST_ERR(wfm_chat_agents(&one, &chat, &target));
	TEST_ASSERT(one > n);
	/* slowdown 0: the same slots as k = 1, three to an agent. */
	chat.concurrency = 3;
	chat.slowdown = 0;
	TEST_ERR(wfm_chat_agents(&n, &chat, &target));
	TEST_EQUALS((one + 2) / 3, n);
	chat.slowdown = 1.5;
	TEST_EQUALS(-EINVAL, wfm_chat_agents(&n, &chat, &target));
	chat.slowdown = 0.5;
	chat.concurrency = 0;
	TEST_EQUALS(-EINVAL, wfm_chat_agents(&n, &chat, &target));
out:
	return err;
}

TEST(test_wfm_invalid)
{
	struct wfm_traffic bad = example;
	struct wfm_target target = {.service_level = 0.8, .sl_time = 20};
	struct wfm_metrics m;
	double x = 0;
	unsigned n = 0;
	int err = 0;

	TEST_EQUALS(-EINVAL, wfm_erlang_b(&x, -1, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_b(&x, NOT_A_NUMBER, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_b(&x, INF, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_b(&x, 10, 0));
	TEST_EQUALS(-EINVAL, wfm_erlang_b(NULL, 10, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_c(&x, -1, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_c(&x, NOT_A_NUMBER, 10));
	TEST_EQUALS(-EINVAL, wfm_erlang_c(&x, 1, 0));
	TEST_EQUALS(-EINVAL, wfm_erlang_c_metrics(&m, &example, 0, 20));
	TEST_EQUALS(-EINVAL, wfm_erlang_c_metrics(&m, &example, 55, -1));
	TEST_EQUALS(-EINVAL, wfm_erlang_c_metrics(&m, &example, 55, NOT_A_NUMBER));
	TEST_EQUALS(-EINVAL, wfm_erlang_c_metrics(&m, NULL, 55, 20));
	TEST_EQUALS(-EINVAL, wfm_erlang_a_metrics(&m, &example, 0, 55, 20));
	TEST_EQUALS(-EINVAL, wfm_erlang_a_metrics(&m, &example, -5, 55, 20));
	TEST_EQUALS(-EINVAL, wfm_erlang_a_metrics(&m, &example, NOT_A_NUMBER, 55, 20));
	TEST_EQUALS(-EINVAL, wfm_erlang_a_metrics(&m, &example, 120, 0, 20));
	bad.calls = -1;
	TEST_EQUALS(-EINVAL, wfm_erlang_c_metrics(&m, &bad, 55, 20));
	TEST_EQUALS(-EINVAL, wfm_erlangs(&x, &bad));
	bad.calls = NOT_A_NUMBER;
	TEST_EQUALS(-EINVAL, wfm_erlang_a_metrics(&m, &bad, 120, 55, 20));
	bad = example;
	bad.aht = 0;
	TEST_EQUALS(-EINVAL, wfm_erlang_c_agents(&n, &bad, &target));
	bad = example;
	bad.interval = -1800;
	TEST_EQUALS(-EINVAL, wfm_erlang_a_agents(&n, &bad, 120, &target));
	target.service_level = 1.5;
	TEST_EQUALS(-EINVAL, wfm_erlang_c_agents(&n, &example, &target));
	target.service_level = NOT_A_NUMBER;
	TEST_EQUALS(-EINVAL, wfm_erlang_a_agents(&n, &example, 120, &target));
	target.service_level = 0.8;
	target.max_occupancy = -0.1;
	TEST_EQUALS(-EINVAL, wfm_erlang_c_agents(&n, &example, &target));
	TEST_EQUALS(-EINVAL, wfm_erlang_c_agents(&n, &example, NULL));
out:
	return err;
}
