-- /etc/tapio/config.lua: settings of tapio-collector (Lua returning a table).
--
-- Every key has a default; set only what you change. `tapio-collector
-- --print-keys` lists every key, `tapio-collector -c /etc/tapio/config.lua
-- --print-config` shows the result and where each value came from.
-- Environment variables (TAPIO_*, e.g. in /etc/default/tapio-collector)
-- and flags win over this file. Restart the service after a change; rules
-- reload without a restart (`systemctl reload tapio-collector`).
--
-- This file must be owned by root and writable by no one else.
return {
  -- preset = "security",                     -- default | high-performance | security
  -- output = { format = "json" },            -- stdout (the journal under systemd)
  -- server = { address = "tapio.example:9090" },
  -- otlp = { address = "127.0.0.1:4317" },   -- an OpenTelemetry Collector
  -- metrics = { address = "127.0.0.1:9464" },
}
