-- The security preset: see everything an attacker does, lose nothing a
-- detection needs.
--
-- * Every probe family and every security-relevant hook: all bpf(2)
--   commands, no in-kernel sampling, no in-kernel exclusions, and failed
--   syscalls kept (a denied open of /etc/shadow is the interesting one).
-- * The default rules and the security rule set (rules/security): file
--   integrity monitoring of /etc, system binaries and SSH keys, credential
--   access, privilege escalation, ptrace, fileless execution, kernel code
--   loads and container escapes. Nothing is excluded in the kernel, so the
--   file family reports every change (open for write, rename, unlink,
--   chmod, chown, link, symlink) to them.
-- * Security and container events are never sampled or rate limited;
--   neither is anything scored 0.5 or more, nor any alert.
return {
  rules = { paths = { "@default", "@security" } },
  programs = {
    process = { enabled = true, sample = 0 },
    file = { enabled = true, sample = 0 },
    network = { enabled = true, sample = 0 },
    security = { enabled = true, sample = 0, bpf_commands = "all" },
    container = { enabled = true, sample = 0 },
    memory = { enabled = true, sample = 0 },
  },
  filter = {
    exclude_comms = {},
    exclude_paths = {},
    drop_failed = {},
  },
  -- Every record the kernel writes lands on memory one lap of the ring
  -- old: a ring larger than the CPU's caches makes each event miss there.
  -- An open under this preset costs the opening process 490 ns in our
  -- program with 8M, 545 with 16M, 657 with 32M and 840 with 64M (bpf
  -- stats, a 2-core VM; docs/performance.md). 8M holds 20,000+ records,
  -- and the reader keeps up past 1.5M events/s with it, as with 32M.
  ring = {
    size = "8M",
  },
  sampling = {
    enabled = false,
    never_sample_importance = 0.5,
    never_sample_categories = { "security", "container" },
  },
  rate_limit = {
    per_process = 2000,
    per_process_burst = 5000,
    per_container = 10000,
    per_container_burst = 20000,
    global = 0,
  },
}
