-- Persistence: writes where code runs later with privileges.

local PERSIST_DIRS = { "/etc/cron.d/", "/etc/cron.daily/", "/etc/cron.hourly/",
                       "/etc/cron.weekly/", "/etc/cron.monthly/", "/var/spool/cron/",
                       "/etc/systemd/system/", "/lib/systemd/system/",
                       "/usr/lib/systemd/system/", "/etc/init.d/", "/etc/profile.d/",
                       "/etc/update-motd.d/" }
local PERSIST_FILES = tapio.set { "/etc/crontab", "/etc/rc.local", "/etc/profile",
                                  "/etc/bash.bashrc", "/etc/ld.so.preload",
                                  "/etc/environment" }
local PACKAGE_MANAGERS = tapio.set { "dpkg", "apt", "apt-get", "rpm", "dnf", "yum",
                                     "unattended-upgr", "systemctl", "systemd" }

rule {
  name = "persistence_file_written",
  desc = "A file that runs code at boot, login or on a schedule was opened for "
      .. "writing by something other than a package manager",
  events = { "file.open" },
  severity = "warning",
  tags = { "mitre:T1053.003", "mitre:T1543.002", "mitre:T1574.006" },
  when = function(e)
    if e.ret < 0 or (e.flags & 3) == 0 or PACKAGE_MANAGERS[e.comm] then return false end
    local p = e.path
    return PERSIST_FILES[p] or tapio.startswith_any(p, PERSIST_DIRS)
  end,
  output = "${path} opened for writing (${flags_str}) by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/etc/cron.d/backdoor", flags = 65 },
      expect = true },
    { event = { type = "file.open", comm = "curl", path = "/etc/ld.so.preload", flags = 2 },
      expect = true },
    { event = { type = "file.open", comm = "dpkg", path = "/etc/cron.daily/logrotate", flags = 1 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/etc/crontab", flags = 0 },
      expect = false },
  },
}
