-- Privilege escalation and code injection: identity changes to root by a
-- process that was not root, dangerous capabilities gained, and ptrace
-- used to read or write another process.

local CAP = { setgid = 6, setuid = 7, net_admin = 12, net_raw = 13, sys_module = 16,
              sys_rawio = 17, sys_ptrace = 19, sys_admin = 21, perfmon = 38, bpf = 39,
              dac_read_search = 2 }
local DANGEROUS = 0
for _, bit in pairs(CAP) do DANGEROUS = DANGEROUS | (1 << bit) end

rule {
  name = "unprivileged_process_became_root",
  desc = "A process that was not root changed its user id to root: sudo and su start "
      .. "as root (set-uid binaries), so this is an exploit or a misconfiguration",
  events = { "security.setuid" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1068", "mitre:T1548" },
  when = function(e)
    return e.ret == 0 and e.old_uid ~= 0 and e.old_euid ~= 0
        and (e.new_uid == 0 or e.new_euid == 0)
  end,
  output = "${comm} (pid ${pid}) became root: uid ${old_uid}->${new_uid}, "
        .. "euid ${old_euid}->${new_euid}",
  tests = {
    { event = { type = "security.setuid", comm = "exploit", uid = 1000, old_uid = 1000,
                old_euid = 1000, new_uid = 0, new_euid = 0 },
      expect = true,
      output = "exploit (pid 1000) became root: uid 1000->0, euid 1000->0" },
    { event = { type = "security.setuid", comm = "sudo", old_uid = 1000, old_euid = 0,
                new_uid = 0, new_euid = 0 }, expect = false },
    { event = { type = "security.setuid", comm = "sshd", old_uid = 0, old_euid = 0,
                new_uid = 1000, new_euid = 1000 }, expect = false },
    { event = { type = "security.setuid", comm = "x", old_uid = 1000, old_euid = 1000,
                new_uid = 0, new_euid = 0, ret = -1 }, expect = false },
  },
}

rule {
  name = "unprivileged_process_became_root_group",
  desc = "A process outside the root group changed its group id to root",
  events = { "security.setgid" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1068", "mitre:T1548" },
  when = function(e)
    return e.ret == 0 and e.old_gid ~= 0 and e.old_egid ~= 0
        and (e.new_gid == 0 or e.new_egid == 0)
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) joined group root: gid ${old_gid}->${new_gid}, "
        .. "egid ${old_egid}->${new_egid}",
  tests = {
    { event = { type = "security.setgid", comm = "x", old_gid = 1000, old_egid = 1000,
                new_gid = 0, new_egid = 0 }, expect = true },
    { event = { type = "security.setgid", comm = "newgrp", old_gid = 1000, old_egid = 0,
                new_gid = 0, new_egid = 0 }, expect = false },
  },
}

rule {
  name = "dangerous_capability_gained",
  desc = "A process not running as root raised a capability that amounts to root "
      .. "(sys_admin, sys_module, sys_ptrace, bpf, setuid...) into its effective set",
  events = { "security.capset" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1548", "mitre:T1068" },
  when = function(e)
    local gained = e.effective & ~e.old_effective
    return e.ret == 0 and e.uid ~= 0 and (gained & DANGEROUS) ~= 0
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) raised its effective capabilities to "
        .. "${effective_str}",
  tests = {
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 21 }, expect = true },
    { event = { type = "security.capset", comm = "ping", uid = 1000, old_effective = 0,
                effective = 1 << 13 }, expect = true },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 1 << 21,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "runc", uid = 0, old_effective = 0,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 10 }, expect = false },
  },
}

local PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
local PTRACE_WRITES = tapio.set { 4, 5, 6, 13 } -- POKETEXT, POKEDATA, POKEUSER, SETREGS
local DEBUGGERS = tapio.set { "gdb", "lldb", "strace", "ltrace", "perf" }

rule {
  name = "ptrace_attach",
  desc = "A process attached to another with ptrace: how debuggers start, and how "
      .. "credentials are read from memory",
  events = { "security.ptrace" },
  severity = "warning",
  importance = 0.7,
  tags = { "mitre:T1055.008", "mitre:T1003" },
  when = function(e)
    return e.ret == 0 and (e.request == PTRACE_ATTACH or e.request == PTRACE_SEIZE)
        and not DEBUGGERS[e.comm]
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) attached to pid ${target_pid} (${request_str})",
  tests = {
    { event = { type = "security.ptrace", comm = "x", request = 16, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "strace", request = 0x4206, target_pid = 42 },
      expect = false },
    { event = { type = "security.ptrace", comm = "x", request = 16, target_pid = 42, ret = -1 },
      expect = false },
  },
}

rule {
  name = "ptrace_memory_write",
  desc = "A process wrote into another process's memory or registers with ptrace: "
      .. "code injection",
  events = { "security.ptrace" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1055.008" },
  when = function(e)
    return e.ret == 0 and PTRACE_WRITES[e.request] ~= nil
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) wrote into pid ${target_pid} (${request_str})",
  tests = {
    { event = { type = "security.ptrace", comm = "inject", request = 5, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "gdb", request = 4, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "x", request = 2, target_pid = 42 },
      expect = false },
  },
}
