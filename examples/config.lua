-- An example tapio-collector config file: tapio-collector -c config.lua
--
-- A config file is Lua that returns a table of settings; it runs in the
-- same sandbox as the rules (no io, os or require). It starts from a
-- preset and changes single keys; the environment (TAPIO_*) and flags
-- (--set KEY=VALUE, -o, ...) still win over it. `tapio-collector -c
-- config.lua --print-config` shows the result and where each value came
-- from; `tapio-collector --print-keys` lists every key.
return {
  preset = "security",

  log = { format = "json" },
  metrics = { address = "0.0.0.0:9464" },

  -- Ship what matters to a Tapio server; keep everything on disk for a day.
  server = { address = "tapio-server.tapio-system:9090", batch_size = 500 },
  storage = { raw_dir = "/var/lib/tapio/raw", retention = "24h", retention_size = "2G" },

  -- Noisy but harmless on this fleet: never even leave the kernel.
  filter = {
    exclude_comms = { "node_exporter" },
  },

  -- A build farm: compilers may run fast, but not drown everyone else.
  rate_limit = {
    per_process = 500,
    per_container = 3000,
  },
}
