-- The default preset: balanced. It is the built-in defaults (listed by
-- `tapio-collector --print-keys`) with the default rule set: every probe
-- family, no sampling, and rate limits per process (1000/s), per
-- container (5000/s) and in all (20000/s) so that a flood cannot drown the
-- outputs. Alerts always pass.
--
-- A config file can start from any preset and change single keys:
--   return { preset = "default", rate_limit = { per_process = 200 } }
return {
  rules = { paths = { "@default" } },
}
