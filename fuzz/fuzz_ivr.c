/*
 * fuzz_ivr: the IVR engine's inputs that come from files and rows rather
 * than from our own code: zone files (tz_parse), stored flows
 * (ivr_flow_load) and calendars (ivr_hours_load). Input: one selector byte,
 * '0' zone file, '1' flow, '2' calendar, then the bytes as they are.
 *
 * Contracts checked: results are 0 or the documented errors, an object
 * comes back exactly on success; a parsed zone answers offsets within
 * ±26 hours for instants across the whole range; a loaded flow runs: a
 * start and then keys, prompt ends and timers driven by the rest of the
 * input, never more than IVR_ACTIONS_MAX actions per step, with a path
 * that stays NUL-ended inside its bound.
 */
#include <errno.h>

#include "base/tz.h"
#include "fuzz.h"
#include "ivr/ivr.h"

static void run_flow(const struct ivr_flow *f, const uint8_t *data, size_t size)
{
	struct ivr_action acts[IVR_ACTIONS_MAX];
	struct ivr_event ev = {.type = IVR_EV_START, .now = 1773021600};
	struct ivr_run *run = NULL;
	uint32_t play = 0, timer = 0;
	int n;

	if (ivr_run_alloc(&run, f, NULL))
		return;
	for (size_t i = 0;; i++) {
		n = ivr_run_step(run, &ev, acts, IVR_ACTIONS_MAX);
		FUZZ_CHECK(n <= IVR_ACTIONS_MAX);
		for (int k = 0; k < n; k++) {
			if (acts[k].type == IVR_ACT_PLAY)
				play = acts[k].id;
			if (acts[k].type == IVR_ACT_START_TIMER)
				timer = acts[k].id;
			if (acts[k].type == IVR_ACT_PLAY)
				FUZZ_CHECK(acts[k].prompt.text != NULL);
		}
		if (n < 0 || ivr_run_done(run) || i >= size)
			break;
		switch (data[i] % 3) {
		case 0:
			ev = (struct ivr_event){.type = IVR_EV_DIGIT, .digit = (char)data[i]};
			break;
		case 1:
			ev = (struct ivr_event){.type = IVR_EV_PROMPT_DONE, .id = play};
			break;
		default:
			ev = (struct ivr_event){.type = IVR_EV_TIMER, .id = timer};
			break;
		}
		ev.now = 1773021600 + (int64_t)i * 3600;
	}
	FUZZ_CHECK(strlen(ivr_run_path(run)) < IVR_PATH_SIZE);
	ivr_run_free(run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	int err;

	if (!size)
		return 0;
	if (data[0] == '0') {
		struct tz *tz = NULL;

		err = tz_parse(&tz, data + 1, size - 1);
		FUZZ_CHECK(err == 0 || err == -EBADMSG || err == -ENOMEM);
		FUZZ_CHECK(!err == (tz != NULL));
		for (int64_t t = -(INT64_C(1) << 40); tz && t < (INT64_C(1) << 40);
		     t += INT64_C(1) << 33) {
			int32_t off = tz_offset(tz, t);

			FUZZ_CHECK(off > -26 * 3600 && off < 26 * 3600);
		}
		tz_free(tz);
		return 0;
	}
	/* Flows and calendars are C strings: stop at the first NUL. */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] == '1') {
		struct ivr_flow *f = NULL;

		err = ivr_flow_load(&f, text);
		FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
		FUZZ_CHECK(!err == (f != NULL));
		if (f)
			run_flow(f, data, size);
		ivr_flow_free(f);
	} else if (data[0] == '2') {
		struct ivr_hours *h = NULL;

		err = ivr_hours_load(&h, text);
		FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
		FUZZ_CHECK(!err == (h != NULL));
		if (h)
			(void)ivr_hours_at(h, NULL, 1773021600);
		ivr_hours_free(h);
	}
	free(text);
	return 0;
}
