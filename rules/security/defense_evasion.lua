-- Defense evasion (ATT&CK TA0005): traces erased, code that never touches
-- the disk, code loaded into the kernel, other processes written into.

local O_TRUNC = 512

local LOGS = tapio.set {
  "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/run/utmp", "/run/utmp",
  "/var/log/auth.log", "/var/log/secure", "/var/log/syslog", "/var/log/messages",
  "/var/log/kern.log", "/var/log/audit/audit.log",
}
local LOG_WRITERS = tapio.set { "logrotate", "rsyslogd", "syslog-ng", "systemd-journal",
                                "auditd", "journalctl" }

rule {
  name = "login_records_or_logs_erased",
  desc = "A login record or system log was deleted or truncated by something other "
      .. "than the logging system",
  events = { "file.open", "file.unlink" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1070.002" },
  when = function(e)
    if e.ret < 0 or LOG_WRITERS[e.comm] or not LOGS[e.path] then return false end
    return e.type == "file.unlink" or (e.flags & O_TRUNC) ~= 0
  end,
  output = "${path} erased (${type}) by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/var/log/wtmp", flags = 1 | 512 },
      expect = true },
    { event = { type = "file.unlink", comm = "rm", path = "/var/log/auth.log" }, expect = true },
    { event = { type = "file.unlink", comm = "logrotate", path = "/var/log/auth.log" },
      expect = false },
    { event = { type = "file.open", comm = "sshd", path = "/var/log/wtmp", flags = 1 | 1024 },
      expect = false },
  },
}


rule {
  name = "fileless_execution",
  desc = "A program was executed from a file descriptor or an anonymous memory file "
      .. "(memfd): code that was never written to disk",
  events = { "process.exec" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1620", "mitre:T1027" },
  when = function(e)
    local f = e.filename
    return e.ret == 0 and f ~= nil and (f:find("^/proc/[%w]+/fd/%d+$") ~= nil
        or f:find("^/dev/fd/%d+$") ~= nil or tapio.startswith(f, "memfd:")
        or tapio.startswith(f, "/memfd:"))
  end,
  output = "${comm} (pid ${pid}, ppid ${ppid}, uid ${uid}) executed ${filename}: ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "3", filename = "/dev/fd/3", argv = { "x" } },
      expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7" },
      expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7", ret = -2 },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls" }, expect = false },
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

local PTRACE_WRITES = tapio.set { 4, 5, 6, 13 } -- POKETEXT, POKEDATA, POKEUSER, SETREGS

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
