-- The agent's own blind spots: a detection that did not fire may simply not
-- have seen the events.

rule {
  name = "kernel_dropped_events",
  desc = "The kernel could not hand events to the agent (its ring buffer was full): "
      .. "rules did not see them. Raise ring.size, or filter more in the kernel",
  events = { "agent.drop" },
  severity = "warning",
  tags = { "agent", "blind-spot" },
  when = function(e) return e.count > 0 end,
  output = "the kernel dropped ${count} ${lost_category} events (${total} since the agent "
        .. "started): rules did not see them",
  tests = {
    { event = { type = "agent.drop", lost_category = "file", count = 120,
                window_ns = 1000000000, total = 4000 },
      expect = true,
      output = "the kernel dropped 120 file events (4000 since the agent started): rules did "
            .. "not see them" },
    { event = { type = "agent.drop", lost_category = "file", count = 0 }, expect = false },
  },
}
