-- Code loaded into the kernel at runtime: modules and eBPF programs.

rule {
  name = "kernel_module_loaded",
  desc = "A kernel module was loaded after boot: rootkits load as modules",
  events = { "security.module_load" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1547.006", "mitre:T1014" },
  when = function(e) return true end,
  output = "kernel module ${name} loaded (taints ${taints}) by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "security.module_load", comm = "modprobe", name = "diamorphine",
                taints = 4096 },
      expect = true,
      output = "kernel module diamorphine loaded (taints 4096) by modprobe (pid 1000, uid 0)" },
  },
}

local BPF_PROG_LOAD = 5
local SOCKET_FILTER = 1

-- libbpf, bpftool and every eBPF agent probe the kernel's features at start
-- with a few tiny socket filters ("libbpf_nametest"...): not worth an alert.
local function feature_probe(e)
  return e.prog_type == SOCKET_FILTER and e.insn_cnt <= 8
end

rule {
  name = "bpf_program_loaded",
  desc = "An eBPF program was loaded into the kernel by something other than systemd: "
      .. "eBPF can hide files, processes and connections",
  events = { "security.bpf" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1014", "mitre:T1562" },
  when = function(e)
    return e.cmd == BPF_PROG_LOAD and e.ret >= 0 and not tapio.startswith(e.comm, "systemd")
        and not feature_probe(e)
  end,
  output = "eBPF program ${name} (${prog_type_str}, ${insn_cnt} instructions) loaded by "
        .. "${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "security.bpf", comm = "loader", cmd = 5, name = "hide", prog_type = 5,
                insn_cnt = 100, ret = 4 }, expect = true },
    { event = { type = "security.bpf", comm = "systemd", cmd = 5, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "agent", cmd = 5, name = "libbpf_nametest",
                prog_type = 1, insn_cnt = 2, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "agent", cmd = 5, prog_type = 1, insn_cnt = 400,
                ret = 4 }, expect = true },
    { event = { type = "security.bpf", comm = "x", cmd = 0, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "x", cmd = 5, ret = -1 }, expect = false },
  },
}

rule {
  name = "bpf_program_loaded_unprivileged",
  desc = "A process not running as root loaded an eBPF program",
  events = { "security.bpf" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1068" },
  when = function(e) return e.cmd == BPF_PROG_LOAD and e.ret >= 0 and e.uid ~= 0 end,
  output = "eBPF program ${name} loaded by ${comm} (pid ${pid}) as uid ${uid}",
  tests = {
    { event = { type = "security.bpf", comm = "x", uid = 1000, cmd = 5, ret = 3 },
      expect = true },
    { event = { type = "security.bpf", comm = "x", uid = 0, cmd = 5, ret = 3 }, expect = false },
  },
}
