#include "obs/procstats.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "obs/metrics.h"
#include "util/time.h"
#include "version.h"

/* statm: size resident shared text lib data dt, in pages. */
static int read_statm(uint64_t *vsize, uint64_t *rss)
{
	unsigned long long v, r;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &v, &r);
	fclose(f);
	if (n != 2)
		return -1;
	*vsize = v * (uint64_t)sysconf(_SC_PAGESIZE);
	*rss = r * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

uint64_t tp_procstats_rss_bytes(void)
{
	uint64_t v, r;

	return read_statm(&v, &r) < 0 ? 0 : r;
}

static double read_rss(void *ctx)
{
	return (double)tp_procstats_rss_bytes();
}

static double read_vsize(void *ctx)
{
	uint64_t v, r;

	return read_statm(&v, &r) < 0 ? 0 : (double)v;
}

static double read_cpu(void *ctx)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double read_open_fds(void *ctx)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

static double read_max_fds(void *ctx)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return (double)rl.rlim_cur;
}

static double start_time_s;

static double read_start_time(void *ctx)
{
	return start_time_s;
}

/* Start time from /proc: boot time (btime in /proc/stat) plus the process's
 * start in clock ticks after boot (field 22 of /proc/self/stat). */
static double proc_start_time(void)
{
	unsigned long long btime = 0, start = 0;
	char line[256], stat[1024], *p;
	FILE *f = fopen("/proc/stat", "re");
	size_t n;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return 0;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(stat, ')');
	if (!p || !btime)
		return 0;
	/* After ')' come " <field 3: state> ... <field 22: starttime>": step
	 * to the space before each field up to 22. */
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return (double)btime + (double)start / (double)sysconf(_SC_CLK_TCK);
}

static double read_one(void *ctx)
{
	return 1;
}

static struct tp_metric m_rss = TP_GAUGE_INIT("process_resident_memory_bytes",
					      "Resident memory size in bytes.");
static struct tp_metric m_vsize = TP_GAUGE_INIT("process_virtual_memory_bytes",
						"Virtual memory size in bytes.");
static struct tp_metric m_cpu = TP_COUNTER_INIT("process_cpu_seconds_total",
						"Total user and system CPU time spent in seconds.");
static struct tp_metric m_open_fds = TP_GAUGE_INIT("process_open_fds",
						   "Number of open file descriptors.");
static struct tp_metric m_max_fds = TP_GAUGE_INIT("process_max_fds",
						  "Maximum number of open file descriptors.");
static struct tp_metric m_start = TP_GAUGE_INIT(
	"process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
static struct tp_metric m_build = TP_GAUGE_INIT("tapio_build_info",
						"Always 1; the labels say which build runs.");

static struct tp_metric *const all[] = { &m_rss, &m_vsize, &m_cpu, &m_open_fds, &m_max_fds,
					 &m_start, &m_build };

void tp_procstats_register(void)
{
	start_time_s = proc_start_time();
	if (!start_time_s)
		start_time_s = (double)tp_now_ns(CLOCK_REALTIME) / 1e9;
	m_rss.read = read_rss;
	m_vsize.read = read_vsize;
	m_cpu.read = read_cpu;
	m_open_fds.read = read_open_fds;
	m_max_fds.read = read_max_fds;
	m_start.read = read_start_time;
	m_build.read = read_one;
	m_build.labels = "version=\"" TAPIO_VERSION "\"";
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tp_metric_register(all[i]);
}

void tp_procstats_unregister(void)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tp_metric_unregister(all[i]);
}
