#include "enrich/container.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_COMPONENTS 64

struct comp {
	const char *s;
	size_t n;
};

static bool has_prefix(struct comp c, const char *p, size_t *rest)
{
	size_t n = strlen(p);

	if (c.n < n || memcmp(c.s, p, n))
		return false;
	*rest = n;
	return true;
}

static bool is(struct comp c, const char *s)
{
	return c.n == strlen(s) && !memcmp(c.s, s, c.n);
}

static bool ends_with(struct comp c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c.n >= n && !memcmp(c.s + c.n - n, suffix, n);
}

bool tp_container_is_hex_id(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "<prefix><64 hex>[.scope]" */
static bool prefixed_id(struct comp c, const char *prefix, struct comp *id)
{
	size_t off, n;

	if (!has_prefix(c, prefix, &off))
		return false;
	n = c.n - off;
	if (ends_with(c, ".scope"))
		n -= 6;
	if (!tp_container_is_hex_id(c.s + off, n))
		return false;
	id->s = c.s + off;
	id->n = n;
	return true;
}

/* Copy a systemd unit name part, undoing its \xNN escapes. False if it does
 * not fit or is empty: a cut name would name another container. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy a systemd unit name part, undoing its \xNN escapes. False if it does
 * not fit, is empty or decodes to a NUL: a cut or odd name would name
 * another container. */
static bool copy_unit_name(char *dst, size_t cap, const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] == 'x' && hex_digit(s[i + 2]) >= 0 &&
		    hex_digit(s[i + 3]) >= 0) {
			c = (char)(hex_digit(s[i + 2]) << 4 | hex_digit(s[i + 3]));
			i += 3;
		}
		if (c == '\0' || w + 1 >= cap)
			return false;
		dst[w++] = c;
	}
	dst[w] = '\0';
	return w > 0;
}

static bool copy_id(char *dst, size_t cap, struct comp id)
{
	if (id.n == 0 || id.n >= cap)
		return false;
	memcpy(dst, id.s, id.n);
	dst[id.n] = '\0';
	return true;
}

/* Whether component i (its parent and child may be absent) is a container;
 * fills the id and runtime. */
static bool match_container(const struct comp *c, size_t ncomp, size_t i,
			    struct tp_cgroup_identity *out)
{
	static const struct {
		const char *prefix;
		const char *runtime;
	} prefixed[] = {
		{ "docker-", "docker" },        { "cri-containerd-", "containerd" },
		{ "nerdctl-", "containerd" },   { "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};
	struct comp self = c[i], id;
	const struct comp *parent = i > 0 ? &c[i - 1] : NULL;
	const struct comp *child = i + 1 < ncomp ? &c[i + 1] : NULL;
	size_t off;

	for (size_t k = 0; k < sizeof(prefixed) / sizeof(prefixed[0]); k++) {
		if (prefixed_id(self, prefixed[k].prefix, &id)) {
			out->runtime = prefixed[k].runtime;
			return copy_id(out->container_id, sizeof(out->container_id), id);
		}
	}
	if (tp_container_is_hex_id(self.s, self.n)) {
		if (parent && is(*parent, "docker"))
			out->runtime = "docker";
		else
			out->bare_id = true;
		return copy_id(out->container_id, sizeof(out->container_id), self);
	}
	if (has_prefix(self, "lxc.payload.", &off)) {
		out->runtime = "lxc";
		return copy_id(out->container_id, sizeof(out->container_id),
			       (struct comp){ self.s + off, self.n - off });
	}
	if (parent && is(*parent, "lxc") && i == 1) {
		out->runtime = "lxc";
		return copy_id(out->container_id, sizeof(out->container_id), self);
	}
	if (has_prefix(self, "systemd-nspawn@", &off) && ends_with(self, ".service")) {
		if (child && is(*child, "supervisor"))
			return false; /* nspawn itself, on the host's side */
		out->runtime = "systemd-nspawn";
		return copy_unit_name(out->container_id, sizeof(out->container_id), self.s + off,
				      self.n - off - 8);
	}
	if (has_prefix(self, "machine-", &off) && ends_with(self, ".scope") && parent &&
	    is(*parent, "machine.slice")) {
		struct comp name = { self.s + off, self.n - off - 6 };
		struct comp probe = name;

		/* libvirt registers its VMs and libvirt-lxc domains the same way */
		if (has_prefix(probe, "qemu\\x2d", &off) || has_prefix(probe, "lxc\\x2d", &off))
			return false;
		out->runtime = "systemd-nspawn";
		return copy_unit_name(out->container_id, sizeof(out->container_id), name.s,
				      name.n);
	}
	return false;
}

static bool valid_uid(const char *s, size_t n)
{
	if (n < 32 || n > 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || ch == '-' ||
		      ch == '_'))
			return false;
	}
	return true;
}

static void set_uid(struct tp_cgroup_identity *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out->pod_uid[i] = s[i] == '_' ? '-' : s[i];
	out->pod_uid[n] = '\0';
}

/* Whether component i is a pod's cgroup; fills pod uid and QoS. */
static bool match_pod(const struct comp *c, size_t i, struct tp_cgroup_identity *out)
{
	struct comp self = c[i];
	const char *kp;
	size_t off;

	/* cgroupfs driver: pod<uid> under kubepods[/besteffort|/burstable] */
	if (has_prefix(self, "pod", &off) && valid_uid(self.s + off, self.n - off) && i > 0) {
		struct comp parent = c[i - 1];

		if (is(parent, "besteffort") && i > 1 && is(c[i - 2], "kubepods"))
			out->qos = "BestEffort";
		else if (is(parent, "burstable") && i > 1 && is(c[i - 2], "kubepods"))
			out->qos = "Burstable";
		else if (is(parent, "kubepods"))
			out->qos = "Guaranteed";
		else
			return false;
		set_uid(out, self.s + off, self.n - off);
		return true;
	}
	/* systemd driver: [<prefix>-]kubepods-[besteffort-|burstable-]pod<uid>.slice */
	if (!ends_with(self, ".slice"))
		return false;
	kp = memmem(self.s, self.n, "kubepods-", 9);
	if (!kp)
		return false;
	{
		struct comp rest = { kp + 9, self.n - (size_t)(kp + 9 - self.s) - 6 };
		const char *qos = "Guaranteed";

		if (has_prefix(rest, "besteffort-", &off))
			qos = "BestEffort";
		else if (has_prefix(rest, "burstable-", &off))
			qos = "Burstable";
		else
			off = 0;
		rest.s += off;
		rest.n -= off;
		if (!has_prefix(rest, "pod", &off) || !valid_uid(rest.s + off, rest.n - off))
			return false;
		out->qos = qos;
		set_uid(out, rest.s + off, rest.n - off);
		return true;
	}
}

bool tp_container_parse(const char *path, struct tp_cgroup_identity *out)
{
	struct comp c[MAX_COMPONENTS];
	size_t n = 0, ci;
	bool container = false, pod = false;

	memset(out, 0, sizeof(*out));
	for (const char *p = path; *p;) {
		const char *end;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		/* Deeper than we look: an outer container could pass for the
		 * innermost one, so say nothing. */
		if (n == MAX_COMPONENTS)
			return false;
		end = strchrnul(p, '/');
		c[n++] = (struct comp){ p, (size_t)(end - p) };
		p = end;
	}
	for (ci = n; ci > 0; ci--) {
		struct tp_cgroup_identity tmp = { 0 };

		if (match_container(c, n, ci - 1, &tmp)) {
			*out = tmp;
			container = true;
			break;
		}
	}
	/* The pod is the nearest pod cgroup above the container (or above the
	 * leaf, for a process in the pod's own cgroup). */
	for (size_t i = container ? ci - 1 : n; i > 0; i--) {
		if (match_pod(c, i - 1, out)) {
			pod = true;
			break;
		}
	}
	return container || pod;
}
