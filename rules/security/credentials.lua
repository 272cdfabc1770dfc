-- Credential access and covering tracks: password hashes read by programs
-- that have no business reading them, denied attempts to reach them, and
-- login records and logs erased.

local O_ACCMODE, O_TRUNC = 3, 512
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
