#include "util/stop.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic uint64_t deadline = UINT64_MAX;

void tp_stop_begin(uint64_t now_ns)
{
	uint64_t none = UINT64_MAX;

	/* The first end counts (a second signal does not extend it). */
	atomic_compare_exchange_strong(&deadline, &none, now_ns + TP_STOP_BUDGET_NS);
}

uint64_t tp_stop_deadline_ns(void)
{
	return atomic_load(&deadline);
}

bool tp_stop_started(void)
{
	return atomic_load(&deadline) != UINT64_MAX;
}

uint64_t tp_stop_cap(uint64_t deadline_ns)
{
	uint64_t d = atomic_load(&deadline);

	return deadline_ns < d ? deadline_ns : d;
}

bool tp_stop_wait_flag(const int *done, uint64_t deadline_ns)
{
	for (;;) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (__atomic_load_n(done, __ATOMIC_ACQUIRE))
			return true;
		if (tp_mono_ns() >= deadline_ns)
			return false;
		nanosleep(&ts, NULL);
	}
}
