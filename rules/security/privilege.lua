-- Privilege and kernel integrity: detections for the security preset.
-- Each rule carries its tests; `tapio-collector --validate -r rules/security`
-- runs them.

local contains = tapio.contains

rule {
  name = "process_became_root",
  desc = "A process that was not root gained effective uid 0 through set*uid "
      .. "(a setuid binary regaining root, or an exploit)",
  events = { "security.setuid" },
  severity = "error",
  tags = { "mitre:T1548", "privilege_escalation" },
  when = function(e)
    return e.ret == 0 and e.old_euid ~= 0 and e.old_uid ~= 0 and e.new_euid == 0
  end,
  output = "${comm} (pid ${pid}) went from uid ${old_uid}/euid ${old_euid} to euid 0 with ${syscall_str}",
  tests = {
    { event = { type = "security.setuid", comm = "exploit", old_uid = 1000, old_euid = 1000,
                new_uid = 1000, new_euid = 0 },
      expect = true },
    { event = { type = "security.setuid", comm = "sudo", old_uid = 0, old_euid = 0,
                new_uid = 1000, new_euid = 1000 },
      expect = false },
    { event = { type = "security.setuid", comm = "x", old_uid = 1000, old_euid = 1000,
                new_euid = 0, ret = -1 },
      expect = false },
  },
}

local DEBUGGERS = tapio.set { "gdb", "strace", "ltrace", "lldb", "perf", "rr", "dlv" }
local INJECTING = tapio.set { "PTRACE_ATTACH", "PTRACE_SEIZE", "PTRACE_POKETEXT",
                              "PTRACE_POKEDATA", "PTRACE_POKEUSER", "PTRACE_SETREGS" }

rule {
  name = "ptrace_injection",
  desc = "A process attached to or wrote into another process with ptrace, "
      .. "and it is not a known debugger",
  events = { "security.ptrace" },
  severity = "warning",
  tags = { "mitre:T1055.008" },
  when = function(e)
    return e.ret == 0 and INJECTING[e.request_str] ~= nil and not DEBUGGERS[e.comm]
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) used ${request_str} on pid ${target_pid}",
  tests = {
    { event = { type = "security.ptrace", comm = "implant", request = "PTRACE_ATTACH",
                target_pid = 42 },
      expect = true, output = "implant (pid 1000, uid 0) used PTRACE_ATTACH on pid 42" },
    { event = { type = "security.ptrace", comm = "gdb", request = "PTRACE_ATTACH",
                target_pid = 42 },
      expect = false },
    { event = { type = "security.ptrace", comm = "x", request = "PTRACE_PEEKDATA",
                target_pid = 42 },
      expect = false },
  },
}

rule {
  name = "kernel_module_loaded",
  desc = "A kernel module was loaded",
  events = { "security.module_load" },
  severity = "warning",
  tags = { "mitre:T1547.006" },
  when = function(e) return true end,
  output = "kernel module ${name} loaded by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "security.module_load", comm = "modprobe", name = "evil" },
      expect = true, output = "kernel module evil loaded by modprobe (pid 1000, uid 0)" },
  },
}

rule {
  name = "user_namespace_by_non_root",
  desc = "A process without root created a user namespace: the first step of "
      .. "many container escapes and local privilege escalations",
  events = { "container.unshare" },
  severity = "notice",
  tags = { "mitre:T1611" },
  when = function(e)
    return e.uid ~= 0 and e.ret == 0 and contains(e.flags_str, "CLONE_NEWUSER")
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) unshared ${flags_str}",
  tests = {
    { event = { type = "container.unshare", comm = "unshare", uid = 1000,
                flags = 0x10000000 | 0x20000 },
      expect = true },
    { event = { type = "container.unshare", comm = "unshare", uid = 0, flags = 0x10000000 },
      expect = false },
    { event = { type = "container.unshare", comm = "x", uid = 1000, flags = 0x20000 },
      expect = false },
  },
}
