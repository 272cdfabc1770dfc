-- File detections: credentials and access control files changed, and
-- traces being erased.

local O_ACCMODE = 3 -- O_WRONLY = 1, O_RDWR = 2

local SENSITIVE = tapio.set {
  "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group", "/etc/sudoers",
  "/etc/ssh/sshd_config", "/etc/ld.so.preload", "/etc/pam.conf",
}
local SENSITIVE_DIRS = { "/etc/sudoers.d/", "/etc/pam.d/", "/root/.ssh/" }
local SENSITIVE_GLOBS = {}
for i, dir in ipairs(SENSITIVE_DIRS) do SENSITIVE_GLOBS[i] = dir .. "*" end

-- Exceptions: ordinary administration that writes these files on purpose.
-- The account tools edit passwd, shadow, group and gshadow (each several
-- times: lock, copy, rename); their exec is scored important instead
-- (score.lua), and the security set raises one alert for a new account.
local ACCOUNT_TOOLS = tapio.set {
  "useradd", "userdel", "usermod", "adduser", "deluser", "newusers", "groupadd", "groupdel",
  "groupmod", "addgroup", "delgroup", "gpasswd", "chpasswd", "chage", "passwd", "chsh", "chfn",
  "vipw", "vigr", "pwconv", "grpconv",
}

rule {
  name = "sensitive_file_opened_for_writing",
  desc = "A file that controls logins or privileges was opened for writing",
  events = { "file.open" },
  severity = "warning",
  tags = { "mitre:T1098", "mitre:T1548" },
  match = { flags = { any = "O_WRONLY|O_RDWR" }, one_of = { { path = SENSITIVE },
                                                          { path = SENSITIVE_GLOBS } } },
  when = function(e)
    if e.ret < 0 or (e.flags & O_ACCMODE) == 0 or ACCOUNT_TOOLS[e.comm] then return false end
    local p = e.path
    return SENSITIVE[p] or tapio.startswith_any(p, SENSITIVE_DIRS)
  end,
  output = "${path} opened for writing (${flags_str}) by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "vi", path = "/etc/sudoers", flags = 1 | 64 },
      expect = true },
    { event = { type = "file.open", comm = "sshd", path = "/root/.ssh/authorized_keys", flags = 2 },
      expect = true },
    { event = { type = "file.open", comm = "cat", path = "/etc/shadow", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "x", path = "/etc/shadow", flags = 1, ret = -13 },
      expect = false },
    { event = { type = "file.open", comm = "x", path = "/etc/hosts", flags = 1 }, expect = false },
    { event = { type = "file.open", comm = "useradd", path = "/etc/shadow", flags = 1 | 64 },
      expect = false },
  },
}

local HISTORY = tapio.set { ".bash_history", ".zsh_history", ".ash_history", ".sh_history",
                            ".python_history", ".mysql_history", ".psql_history" }

rule {
  name = "shell_history_deleted",
  desc = "A shell history file was deleted",
  events = { "file.unlink" },
  severity = "warning",
  tags = { "mitre:T1070.003" },
  match = { ret = 0, path_base = HISTORY },
  when = function(e)
    return e.ret == 0 and HISTORY[tapio.basename(e.path)] ~= nil
  end,
  output = "${path} deleted by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.unlink", comm = "rm", path = "/root/.bash_history" },
      expect = true, output = "/root/.bash_history deleted by rm (pid 1000, uid 0)" },
    { event = { type = "file.unlink", comm = "rm", path = "/root/notes" }, expect = false },
  },
}
