-- The high-performance preset: for busy nodes where the agent's own cost
-- matters most. A larger ring buffer drained in bigger batches, more
-- filtering in the kernel (where a dropped event costs least), and
-- adaptive sampling of routine events. Alerts, events scored 0.8 or more
-- and security events are never sampled or rate limited.
return {
  rules = { paths = { "@default" } },
  -- Twice the default ring, not more: a ring past the CPU's caches makes
  -- every event cost more in the kernel (rules/presets/security.lua).
  ring = {
    size = "16M",
    drain_batch = 16384,
  },
  filter = {
    -- pseudo-file systems: reads of /proc and /sys are constant noise
    exclude_paths = { "/proc", "/sys" },
    -- failed opens (ENOENT while searching PATH, libraries, configs)
    drop_failed = { "file" },
  },
  programs = {
    memory = { page_fault_sample = 0 }, -- no page fault events
  },
  sampling = {
    enabled = true,
    base_rate = 0.1,          -- 1 in 10 routine events ...
    importance_boost = 10,    -- ... 1 in 1 at importance 1
    never_sample_importance = 0.8,
    never_sample_categories = { "security" },
    burst_protection = true,
    burst_threshold = 5000,   -- at most about 5000 sampled events/s
  },
  rate_limit = {
    per_process = 500,
    per_process_burst = 1000,
    per_container = 2000,
    per_container_burst = 4000,
    global = 10000,
    global_burst = 20000,
  },
  storage = {
    queue_size = "64M",
  },
}
