-- Credential access (ATT&CK TA0006): password hashes, other processes'
-- memory, private keys and cloud credentials, shell history.

local O_ACCMODE = 3
local EACCES, EPERM = -13, -1

local SHADOW = tapio.set { "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-" }
-- Programs that read password hashes to do their job.
local AUTH = tapio.set {
  "sshd", "login", "su", "sudo", "passwd", "unix_chkpwd", "chage", "chpasswd", "chsh",
  "chfn", "useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "gpasswd",
  "newusers", "vipw", "vigr", "pwck", "grpck", "pwconv", "grpconv", "cron", "crond",
  "polkitd", "systemd-logind", "shadowconfig", "expiry", "runuser", "dpkg",
}

rule {
  name = "password_hashes_read",
  desc = "The password hash file was opened for reading by a program that does not "
      .. "authenticate users",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1003.008" },
  when = function(e)
    return e.ret >= 0 and (e.flags & O_ACCMODE) ~= 1 and SHADOW[e.path] ~= nil
        and not AUTH[e.comm]
  end,
  output = "${path} read by ${comm} (pid ${pid}, ppid ${ppid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "python3", path = "/etc/shadow", flags = 0 },
      expect = true, output = "/etc/shadow read by python3 (pid 1000, ppid 1, uid 0)" },
    { event = { type = "file.open", comm = "unix_chkpwd", path = "/etc/shadow", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/passwd", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", flags = 0, ret = -13 },
      expect = false },
  },
}

local PROTECTED = tapio.set { "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root" }

rule {
  name = "protected_file_access_denied",
  desc = "An attempt to open a file holding credentials or privileges was denied: "
      .. "someone without the rights is looking (needs failed syscalls kept in the "
      .. "kernel, as the security preset does)",
  events = { "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1003.008", "mitre:T1083" },
  when = function(e)
    return (e.ret == EACCES or e.ret == EPERM)
        and (PROTECTED[e.path] ~= nil or tapio.startswith_any(e.path, { "/etc/sudoers.d/",
                                                                          "/root/.ssh/" }))
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) was denied ${path} (${ret_str})",
  tests = {
    { event = { type = "file.open", comm = "cat", uid = 1000, path = "/etc/shadow",
                ret = -13 }, expect = true },
    { event = { type = "file.open", comm = "ls", uid = 1000, path = "/root/.ssh/id_rsa",
                ret = -13 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", ret = 3 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", ret = -2 },
      expect = false },
  },
}

local PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
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
