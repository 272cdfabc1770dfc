-- Memory: the kernel's OOM killer is always worth a line.

rule {
  name = "oom_kill",
  desc = "The kernel's OOM killer killed a process",
  events = { "memory.oom" },
  severity = "warning",
  tags = { "reliability", "oom" },
  when = function(e) return true end,
  output = "OOM killer killed ${victim_comm} (pid ${victim_pid}, uid ${victim_uid}): "
        .. "anon RSS ${anon_rss_kb} kB, total VM ${total_vm_kb} kB, oom_score_adj ${oom_score_adj}",
  tests = {
    { event = { type = "memory.oom", victim_comm = "java", victim_pid = 77, victim_uid = 1000,
                anon_rss_kb = 2048, total_vm_kb = 4096, oom_score_adj = 0 },
      expect = true,
      output = "OOM killer killed java (pid 77, uid 1000): anon RSS 2048 kB, total VM 4096 kB, "
            .. "oom_score_adj 0" },
  },
}
