-- Persistence (ATT&CK TA0003): what makes an attacker's code run again
-- after a reboot, a login, a schedule or an event, and the file integrity
-- monitoring of the trees it hides in (/etc, system binaries, SSH).
--
-- Each place has one rule: a file there created or written (open for
-- writing, creating or truncating), renamed or hard-linked into place,
-- symlinked there, or its mode changed. Package managers and configuration
-- management change these places by design; they are the exceptions below
-- (INSTALLERS, CONFIG_MANAGERS), which a rules file of your own can extend.

local startswith, startswith_any, basename = tapio.startswith, tapio.startswith_any,
                                             tapio.basename
local O_ACCMODE, O_CREAT, O_TRUNC = 3, 64, 512

-- Programs that install and configure software, and whose children (a
-- package's maintainer scripts) do so on their behalf.
local INSTALLERS = tapio.set {
  "dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "rpm", "dnf", "yum", "microdnf",
  "zypper", "apk", "pacman", "snapd", "packagekitd", "dpkg-preconfigu", "dpkg-trigger",
  "deb-systemd-hel", "deb-systemd-inv", "update-rc.d", "update-alternat", "pam-auth-update",
  "ucf", "ucfr", "update-ca-certi", "ldconfig", "depmod", "update-initramf", "systemd-sysuser",
  "systemd-tmpfile",
}
-- Configuration management agents (their child processes too).
local CONFIG_MANAGERS = tapio.set {
  "puppet", "chef-client", "chef-solo", "salt-minion", "salt-call", "cf-agent", "cloud-init",
  "ansible-playboo", "ansible", "mgmt",
}

-- True when the process or one of its ancestors installs or manages
-- software (Ansible runs modules as python3 ... AnsiballZ_*.py).
local function managed(e)
  local c = e.comm
  if INSTALLERS[c] or CONFIG_MANAGERS[c] then return true end
  local par = e.parent
  local p = par and par.comm
  if p and (INSTALLERS[p] or CONFIG_MANAGERS[p]) then return true end
  local cmd = e.cmdline
  if cmd and cmd:find("AnsiballZ_", 1, true) then return true end
  local anc = e.ancestors
  if anc then
    for i = 1, #anc do
      local a = anc[i].comm
      if a and (INSTALLERS[a] or CONFIG_MANAGERS[a]) then return true end
    end
  end
  return false
end

-- The path a successful file event puts in place or changes, or nil: an
-- open for writing, creating or truncating; the new name of a rename or
-- link; a symlink's own path; a chmod's or chown's file.
local function changed(e)
  if e.ret < 0 then return nil end
  local t = e.type
  if t == "file.open" then
    local f = e.flags
    if (f & O_ACCMODE) == 0 and (f & (O_CREAT | O_TRUNC)) == 0 then return nil end
    return e.path
  elseif t == "file.rename" or t == "file.link" then
    return e.newpath
  elseif t == "file.symlink" then
    return e.linkpath
  end
  return e.path
end

local CHANGES = { "file.open", "file.rename", "file.link", "file.symlink", "file.chmod",
                  "file.chown" }
-- The opens changed() takes for a change, for the engine to check in C.
local WRITES = { flags = { any = "O_WRONLY|O_RDWR|O_CREAT|O_TRUNC" } }
local WHO = "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}], "
         .. "container ${container.id|'host'}, pod ${k8s.namespace|'-'}/${k8s.pod|'-'})"

-- What the enrich function at the end of this file checks a changed path
-- against: every place below, then the file integrity trees.
local watched = {}
-- The same as globs, for the engine to check in C before that function:
-- every path a watched check can accept matches one of them (a changed
-- file elsewhere, most writes, never reaches Lua).
local watched_globs = {}
local function glob_each(list, suffix)
  for _, v in ipairs(list or {}) do watched_globs[#watched_globs + 1] = v .. suffix end
end

-- One rule for one place where code is made to run again.
-- t: name, desc, tags, severity, importance, files (exact paths), prefixes
-- (directories, with their trailing /), match(path) (more shapes) with
-- paths (globs that every path match accepts matches: "*/.ssh/*"),
-- except(path, e), what (for the output), tests.
local places = {}
local function place(t)
  local files = tapio.set(t.files or {})
  local prefixes = t.prefixes or {}
  local match, except = t.match, t.except
  if match ~= nil and t.paths == nil then
    error("place '" .. t.name .. "': match needs paths, globs that cover every path it "
          .. "accepts (the enrich function's pre-filter in C)", 2)
  end
  glob_each(t.files, "")
  glob_each(prefixes, "*")
  glob_each(t.paths, "")
  local function covers(p)
    return files[p] ~= nil or startswith_any(p, prefixes) or (match ~= nil and match(p))
  end
  places[#places + 1] = covers
  watched[#watched + 1] = covers
  rule {
    name = t.name,
    desc = t.desc,
    events = CHANGES,
    severity = t.severity,
    importance = t.importance,
    tags = t.tags,
    -- Checked in C: the path the shared check below found watched; reads
    -- (most opens) end there, before it, at the same flags as changed().
    match = { set = { persistence_path = true }, ["file.open"] = WRITES },
    when = function(e)
      local p = e.persistence_path
      if not covers(p) then return false end
      if except and except(p, e) then return false end
      return not managed(e)
    end,
    output = t.what .. " ${path|newpath|linkpath} (${type}) by " .. WHO,
    tests = t.tests,
  }
end

-- True when another place's rule reports this path: the file integrity
-- rules below leave it to that one.
local function covered(p)
  for i = 1, #places do
    if places[i](p) then return true end
  end
  return false
end

-- Directories where a file means nothing yet (nobody runs it from there).
local SCRATCH = { "/tmp/", "/var/tmp/", "/dev/shm/", "/proc/", "/sys/" }

---------------------------------------------------------------- shell start-up

local USER_STARTUP_NAMES = {
  ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv",
  ".zprofile", ".zlogin", ".zlogout", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".login",
  ".logout", ".xprofile", ".xsession", ".xsessionrc", ".xinitrc",
}
local USER_STARTUP = tapio.set(USER_STARTUP_NAMES)
local USER_STARTUP_PATHS = { "*/.config/fish/config.fish" }
for _, b in ipairs(USER_STARTUP_NAMES) do -- anywhere; or alone, a path left relative
  USER_STARTUP_PATHS[#USER_STARTUP_PATHS + 1] = "*/" .. b
  USER_STARTUP_PATHS[#USER_STARTUP_PATHS + 1] = b
end

place {
  name = "shell_startup_file_modified",
  desc = "A shell start-up or login script was written: a user's (.bashrc, .profile, "
      .. ".zshrc...) or the system's (/etc/profile, /etc/profile.d, /etc/bash.bashrc, "
      .. "/etc/environment...). Every new shell then runs what was added",
  tags = { "mitre:T1546.004", "mitre:T1037" },
  severity = "warning",
  importance = 0.75,
  files = { "/etc/profile", "/etc/bash.bashrc", "/etc/bashrc", "/etc/bash.bash_logout",
            "/etc/environment", "/etc/zshenv", "/etc/zshrc", "/etc/zprofile", "/etc/zlogin",
            "/etc/csh.cshrc", "/etc/csh.login", "/etc/mksh/mkshrc", "/etc/security/pam_env.conf" },
  prefixes = { "/etc/profile.d/", "/etc/zsh/", "/etc/skel/", "/etc/fish/" },
  paths = USER_STARTUP_PATHS,
  match = function(p)
    return (USER_STARTUP[basename(p)] ~= nil or tapio.endswith(p, "/.config/fish/config.fish"))
        and not startswith_any(p, SCRATCH)
  end,
  -- useradd -m copies /etc/skel into the new home: the account is reported
  -- by account_created.
  except = function(p, e) return e.comm == "useradd" or e.comm == "adduser" end,
  what = "shell start-up file",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/home/ann/.bashrc", flags = 1025,
                exe = "/usr/bin/bash", parent = { comm = "sshd" }, ppid = 7 },
      expect = true,
      output = "shell start-up file /home/ann/.bashrc (file.open) by bash (pid 1000, uid 0, "
            .. "exe /usr/bin/bash, parent sshd[7], container host, pod -/-)" },
    { event = { type = "file.rename", comm = "sed", oldpath = "/etc/profile.d/sedX1",
                newpath = "/etc/profile.d/x.sh" }, expect = true },
    { event = { type = "file.symlink", comm = "ln", target = "/tmp/p", linkpath = "/root/.profile" },
      expect = true },
    { event = { type = "file.open", comm = "python3", path = "/etc/environment", flags = 577,
                container = { id = "abc" }, k8s = { namespace = "shop", pod = "web-0" } },
      expect = true,
      output = "shell start-up file /etc/environment (file.open) by python3 (pid 1000, uid 0, "
            .. "exe ?, parent ?[1], container abc, pod shop/web-0)" },
    { event = { type = "file.open", comm = "bash", path = "/home/ann/.bashrc", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "useradd", path = "/home/bob/.bashrc", flags = 193 },
      expect = false },
    { event = { type = "file.open", comm = "dpkg", path = "/etc/bash.bashrc", flags = 577 },
      expect = false },
    { event = { type = "file.open", comm = "sh", path = "/etc/skel/.bashrc", flags = 577,
                parent = { comm = "dpkg" } }, expect = false },
    { event = { type = "file.open", comm = "tar", path = "/tmp/x/.bashrc", flags = 193 },
      expect = false },
    { event = { type = "file.open", comm = "bash", path = "/home/ann/.bashrc", flags = 1025,
                ret = -13 }, expect = false },
  },
}

---------------------------------------------------------------- schedules

-- The system's own copy of a tool (an account or cron tool's name on a
-- binary elsewhere, /tmp/usermod, is not that tool).
local SYSTEM_DIRS = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/lib/", "/usr/libexec/",
                      "/lib/", "/usr/local/bin/", "/usr/local/sbin/" }
local function system_tool(e, names)
  if not names[e.comm] then return false end
  local exe = e.exe
  return exe == nil or startswith_any(exe, SYSTEM_DIRS)
end

-- crontab -e (a person in an editor), as opposed to crontab FILE or -.
local CRONTAB = tapio.set { "crontab" }
local function crontab_edit(e)
  if not system_tool(e, CRONTAB) then return false end
  local argv = e.argv
  if argv == nil then return false end
  for i = 2, #argv do
    if argv[i] == "-e" then return true end
  end
  return false
end

place {
  name = "cron_job_modified",
  desc = "A cron or at job was written: /etc/crontab, /etc/cron.d, the periodic "
      .. "directories (cron.hourly, daily...), anacrontab, a user's crontab (crontab -e, "
      .. "crontab FILE) or an at job",
  tags = { "mitre:T1053.003", "mitre:T1053.002" },
  severity = "warning",
  importance = 0.75,
  files = { "/etc/crontab", "/etc/anacrontab" },
  prefixes = { "/etc/cron.d/", "/etc/cron.hourly/", "/etc/cron.daily/", "/etc/cron.weekly/",
               "/etc/cron.monthly/", "/etc/cron.yearly/", "/var/spool/cron/", "/var/spool/at/",
               "/var/spool/anacron/" },
  -- anacron's own timestamps; a person editing a crontab with crontab -e
  -- is crontab_edited's (notice)
  except = function(p, e)
    return (startswith(p, "/var/spool/anacron/") and e.comm == "anacron") or crontab_edit(e)
  end,
  what = "cron job",
  tests = {
    { event = { type = "file.rename", comm = "crontab", oldpath = "/var/spool/cron/crontabs/tmp.1",
                newpath = "/var/spool/cron/crontabs/root" }, expect = true },
    { event = { type = "file.open", comm = "bash", path = "/etc/cron.d/x", flags = 577 },
      expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/etc/cron.hourly/x", mode = 493 },
      expect = true },
    { event = { type = "file.open", comm = "cron", path = "/etc/crontab", flags = 0 },
      expect = false },
    { event = { type = "file.open", comm = "anacron", path = "/var/spool/anacron/cron.daily",
                flags = 577 }, expect = false },
    { event = { type = "file.open", comm = "dpkg", path = "/etc/cron.daily/man-db",
                flags = 577 }, expect = false },
    { event = { type = "file.rename", comm = "crontab", oldpath = "/var/spool/cron/crontabs/tmp.1",
                newpath = "/var/spool/cron/crontabs/ann", argv = { "crontab", "-e" },
                exe = "/usr/bin/crontab" }, expect = false },
    { event = { type = "file.rename", comm = "crontab", oldpath = "/var/spool/cron/crontabs/tmp.1",
                newpath = "/var/spool/cron/crontabs/ann", argv = { "crontab", "-e" },
                exe = "/tmp/crontab" }, expect = true },
  },
}

rule {
  name = "crontab_edited",
  desc = "A crontab was edited with crontab -e: how people schedule their jobs, and an "
      .. "attacker with a shell too; at notice (crontab FILE or a pipe into crontab - is "
      .. "cron_job_modified, at warning)",
  events = { "file.rename", "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1053.003" },
  match = { set = { persistence_path = "/var/spool/cron/*" } },
  when = function(e)
    local p = e.persistence_path
    -- the crontab put in place, not crontab's temporary copy next to it
    return not startswith(basename(p), "tmp.")
        and crontab_edit(e)
  end,
  output = "crontab ${newpath|path} edited: ${cmdline} by " .. WHO,
  tests = {
    { event = { type = "file.rename", comm = "crontab", oldpath = "/var/spool/cron/crontabs/tmp.1",
                newpath = "/var/spool/cron/crontabs/ann", argv = { "crontab", "-u", "ann", "-e" },
                exe = "/usr/bin/crontab" }, expect = true },
    { event = { type = "file.rename", comm = "crontab", oldpath = "/var/spool/cron/crontabs/tmp.1",
                newpath = "/var/spool/cron/crontabs/ann", argv = { "crontab", "-" },
                exe = "/usr/bin/crontab" }, expect = false },
    { event = { type = "file.open", comm = "crontab", path = "/var/spool/cron/crontabs/tmp.x1",
                flags = 194, argv = { "crontab", "-e" }, exe = "/usr/bin/crontab" },
      expect = false },
  },
}

place {
  name = "systemd_timer_modified",
  desc = "A systemd timer was written (system or user): it starts a service on a schedule",
  tags = { "mitre:T1053.006" },
  severity = "warning",
  importance = 0.75,
  paths = { "*/systemd/*.timer" },
  match = function(p)
    return tapio.endswith(p, ".timer") and p:find("/systemd/", 1, true) ~= nil
        and not startswith_any(p, SCRATCH)
  end,
  what = "systemd timer",
  tests = {
    { event = { type = "file.open", comm = "tee", path = "/etc/systemd/system/x.timer",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "cp", flags = 577,
                path = "/home/ann/.config/systemd/user/x.timer" }, expect = true },
    { event = { type = "file.symlink", comm = "systemctl", target = "/etc/systemd/system/x.timer",
                linkpath = "/etc/systemd/system/timers.target.wants/x.timer" }, expect = true },
    { event = { type = "file.open", comm = "tee", path = "/etc/systemd/system/x.service",
                flags = 577 }, expect = false },
  },
}

---------------------------------------------------------------- services and boot

place {
  name = "systemd_unit_modified",
  desc = "A systemd unit or generator was written or enabled (system or user units, "
      .. "drop-ins, wants/ links, lingering users): it runs at boot or login",
  tags = { "mitre:T1543.002" },
  severity = "warning",
  importance = 0.75,
  prefixes = { "/etc/systemd/system/", "/etc/systemd/user/", "/lib/systemd/system/",
               "/usr/lib/systemd/system/", "/lib/systemd/user/", "/usr/lib/systemd/user/",
               "/run/systemd/system/", "/run/systemd/user/", "/etc/systemd/system-generators/",
               "/usr/lib/systemd/system-generators/", "/lib/systemd/system-generators/",
               "/etc/systemd/user-generators/", "/usr/lib/systemd/user-generators/",
               "/var/lib/systemd/linger/" },
  paths = { "*/.config/systemd/user/*", "*/.local/share/systemd/user/*" },
  match = function(p)
    return (p:find("/.config/systemd/user/", 1, true) ~= nil
            or p:find("/.local/share/systemd/user/", 1, true) ~= nil)
        and not startswith_any(p, SCRATCH)
  end,
  except = function(p, e)
    -- timers have their own rule; systemd writes its transient units
    return tapio.endswith(p, ".timer") or e.comm == "systemd"
  end,
  what = "systemd unit",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/etc/systemd/system/x.service",
                flags = 577 }, expect = true },
    { event = { type = "file.symlink", comm = "systemctl", target = "/etc/systemd/system/x.service",
                linkpath = "/etc/systemd/system/multi-user.target.wants/x.service" },
      expect = true },
    { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/u",
                newpath = "/home/ann/.config/systemd/user/u.service" }, expect = true },
    { event = { type = "file.open", comm = "loginctl", path = "/var/lib/systemd/linger/ann",
                flags = 193 }, expect = true },
    { event = { type = "file.open", comm = "systemd", path = "/run/systemd/system/run-1.service",
                flags = 577 }, expect = false },
    { event = { type = "file.open", comm = "deb-systemd-hel", flags = 193,
                path = "/etc/systemd/system/multi-user.target.wants/ssh.service" },
      expect = false },
  },
}

place {
  name = "init_script_modified",
  desc = "A boot script was written: /etc/rc.local, an init.d script or an rc?.d link, "
      .. "an upstart job, /etc/inittab",
  tags = { "mitre:T1037.004" },
  severity = "warning",
  importance = 0.8,
  files = { "/etc/rc.local", "/etc/inittab", "/etc/rc.d/rc.local" },
  prefixes = { "/etc/init.d/", "/etc/init/", "/etc/rc.d/init.d/" },
  paths = { "/etc/rc*" },
  match = function(p) return p:find("^/etc/rc[0-6Ss]%.d/") ~= nil end,
  what = "boot script",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/etc/rc.local", flags = 1089 },
      expect = true },
    { event = { type = "file.symlink", comm = "ln", target = "../init.d/x",
                linkpath = "/etc/rc3.d/S99x" }, expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/etc/init.d/x", mode = 493 },
      expect = true },
    { event = { type = "file.symlink", comm = "update-rc.d", target = "../init.d/cron",
                linkpath = "/etc/rc2.d/S01cron" }, expect = false },
    { event = { type = "file.open", comm = "sh", path = "/etc/rc.local.bak", flags = 577 },
      expect = false },
  },
}

---------------------------------------------------------------- logins

local SSH_LOGIN_FILES = tapio.set { "authorized_keys", "authorized_keys2", "rc", "environment" }

place {
  name = "ssh_authorized_keys_modified",
  desc = "A file sshd reads at a user's login was written: authorized_keys (a key that "
      .. "logs in), ~/.ssh/rc (runs at login), ~/.ssh/environment, or /etc/ssh/sshrc",
  tags = { "mitre:T1098.004" },
  severity = "error",
  importance = 0.9,
  files = { "/etc/ssh/sshrc" },
  prefixes = { "/etc/ssh/authorized_keys/" },
  paths = { "*/.ssh/*" },
  match = function(p)
    return p:find("/.ssh/", 1, true) ~= nil and SSH_LOGIN_FILES[basename(p)] ~= nil
        and not startswith_any(p, SCRATCH)
  end,
  what = "SSH login file",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/home/ann/.ssh/authorized_keys",
                flags = 1025 }, expect = true },
    { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/k",
                newpath = "/root/.ssh/authorized_keys2" }, expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/root/.ssh/authorized_keys",
                mode = 438 }, expect = true },
    { event = { type = "file.open", comm = "ssh-keygen", path = "/home/ann/.ssh/id_ed25519",
                flags = 577 }, expect = false },
    { event = { type = "file.open", comm = "ssh", path = "/home/ann/.ssh/known_hosts",
                flags = 1025 }, expect = false },
  },
}

-- Account tools and what they write. One alert per command comes from
-- account_created (privilege_escalation.lua has the uid 0 and group ones);
-- the files they rewrite on the way are no news.
local ACCOUNT_TOOLS = tapio.set {
  "useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "gpasswd", "passwd",
  "chpasswd", "chage", "chsh", "chfn", "newusers", "vipw", "vigr", "pwconv", "grpconv",
  "pwunconv", "grpunconv", "pwck", "grpck", "adduser", "deluser", "addgroup", "delgroup",
  "newgrp", "cppw", "cpgr", "lusermod", "luseradd",
}
local ACCOUNT_FILES = tapio.set {
  "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid",
}
-- The files account tools write on the way: backups, locks, temporaries.
local function account_file(p)
  if ACCOUNT_FILES[p] or p == "/etc/.pwd.lock" then return true end
  local base = p:match("^(/etc/[%a]+)[%-%+]$") or p:match("^(/etc/[%a]+)%.lock$")
      or p:match("^(/etc/[%a]+)%.%d+$") or p:match("^(/etc/[%a]+)%.edit$")
      -- chpasswd and passwd write /etc/nshadow, /etc/npasswd and rename them
      or p:match("^/etc/n(%a+)$")
  if base ~= nil and base:sub(1, 1) ~= "/" then base = "/etc/" .. base end
  return base ~= nil and ACCOUNT_FILES[base] ~= nil
end

place {
  name = "account_database_edited",
  desc = "/etc/passwd, shadow, group or gshadow (or subuid/subgid) was changed by a program "
      .. "that is not an account tool: an account or a password added by hand "
      .. "(echo ... >> /etc/passwd), a uid changed to 0",
  tags = { "mitre:T1136.001", "mitre:T1098" },
  severity = "critical",
  importance = 0.95,
  files = { "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid",
            "/etc/subgid" },
  except = function(p, e) return system_tool(e, ACCOUNT_TOOLS) end,
  what = "account database",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/etc/passwd", flags = 1025 },
      expect = true },
    { event = { type = "file.rename", comm = "python3", oldpath = "/etc/passwd.new",
                newpath = "/etc/passwd" }, expect = true },
    { event = { type = "file.rename", comm = "useradd", oldpath = "/etc/passwd+",
                newpath = "/etc/passwd" }, expect = false },
    { event = { type = "file.rename", comm = "usermod", oldpath = "/etc/passwd+",
                newpath = "/etc/passwd", exe = "/usr/sbin/usermod" }, expect = false },
    { event = { type = "file.rename", comm = "usermod", oldpath = "/etc/passwd+",
                newpath = "/etc/passwd", exe = "/dev/shm/usermod" }, expect = true },
    { event = { type = "file.open", comm = "bash", path = "/etc/passwd", flags = 0 },
      expect = false },
  },
}

-- Tools that set a password (or lock one): the shadow file they rewrite.
local PASSWORD_SETTERS = tapio.set { "passwd", "chpasswd", "usermod", "cppw", "lusermod" }
-- usermod's options that set, lock or unlock the password
local PASSWORD_OPTIONS = tapio.set { "-p", "--password", "-L", "--lock", "-U", "--unlock" }

rule {
  name = "account_password_changed",
  desc = "An account's password was set, changed or locked by root (passwd USER, chpasswd, "
      .. "usermod -p/-L): an attacker setting a password on root or a service account to log "
      .. "in with it, or locking the owners out; at notice, since admins do it too. A user "
      .. "changing their own password is not reported",
  events = { "file.rename", "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1098", "mitre:T1531" },
  match = { set = { persistence_path = "/etc/shadow" }, uid = 0 },
  when = function(e)
    if not system_tool(e, PASSWORD_SETTERS) or managed(e) then
      return false
    end
    if e.comm ~= "usermod" and e.comm ~= "lusermod" then return true end
    local argv = e.argv or {}
    for i = 2, #argv do
      local a = argv[i]
      if PASSWORD_OPTIONS[a] or startswith(a, "--password=") or a:find("^%-[a-zA-Z]*[pLU]") then
        return true
      end
    end
    return false
  end,
  output = "password changed in /etc/shadow: ${cmdline|comm} by " .. WHO,
  tests = {
    { event = { type = "file.rename", comm = "chpasswd", oldpath = "/etc/shadow+",
                newpath = "/etc/shadow", argv = { "chpasswd" }, exe = "/usr/sbin/chpasswd" },
      expect = true },
    { event = { type = "file.rename", comm = "passwd", oldpath = "/etc/nshadow",
                newpath = "/etc/shadow", argv = { "passwd", "root" } }, expect = true },
    { event = { type = "file.rename", comm = "passwd", oldpath = "/etc/nshadow", uid = 1000,
                newpath = "/etc/shadow", argv = { "passwd" } }, expect = false },
    { event = { type = "file.rename", comm = "useradd", oldpath = "/etc/shadow+",
                newpath = "/etc/shadow", argv = { "useradd", "ann" } }, expect = false },
    { event = { type = "file.rename", comm = "usermod", oldpath = "/etc/passwd+",
                newpath = "/etc/passwd", argv = { "usermod", "-s", "/bin/zsh", "ann" } },
      expect = false },
    { event = { type = "file.rename", comm = "usermod", oldpath = "/etc/shadow+",
                newpath = "/etc/shadow", argv = { "usermod", "-c", "Ann", "ann" } },
      expect = false },
    { event = { type = "file.rename", comm = "usermod", oldpath = "/etc/shadow+",
                newpath = "/etc/shadow", argv = { "usermod", "-p", "$6$x", "ann" } },
      expect = true },
  },
}

local ACCOUNT_CREATORS = tapio.set { "useradd", "adduser", "groupadd", "addgroup", "newusers",
                                     "luseradd", "lgroupadd" }

rule {
  name = "account_created",
  desc = "A user or group was created (useradd, adduser, groupadd, newusers...): reported "
      .. "once per command, at notice, since making accounts is ordinary admin work as "
      .. "well as an attacker's way back in. Package installs making system users are the "
      .. "exception",
  events = { "process.exec" },
  match = { ret = 0, filename_base = ACCOUNT_CREATORS },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1136.001" },
  when = function(e)
    if e.ret ~= 0 or not ACCOUNT_CREATORS[basename(e.filename)] then return false end
    local par = e.parent
    -- adduser runs useradd: one alert, for adduser
    if par and par.comm and ACCOUNT_CREATORS[par.comm] then return false end
    return not managed(e)
  end,
  output = "account created: ${cmdline}; by " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "useradd", filename = "/usr/sbin/useradd",
                argv = { "useradd", "-m", "backdoor" } }, expect = true },
    { event = { type = "process.exec", comm = "groupadd", filename = "/usr/sbin/groupadd",
                argv = { "groupadd", "ops" } }, expect = true },
    { event = { type = "process.exec", comm = "useradd", filename = "/usr/sbin/useradd",
                argv = { "useradd", "ann" }, parent = { comm = "adduser" } }, expect = false },
    { event = { type = "process.exec", comm = "adduser", filename = "/usr/sbin/adduser",
                argv = { "adduser", "--system", "svc" }, parent = { comm = "sh" },
                ancestors = { { comm = "dpkg" } } }, expect = false },
    { event = { type = "process.exec", comm = "userdel", filename = "/usr/sbin/userdel",
                argv = { "userdel", "ann" } }, expect = false },
  },
}

place {
  name = "sudoers_modified",
  desc = "A sudoers file was written (/etc/sudoers, /etc/sudoers.d): who may run what as "
      .. "root, with or without a password",
  tags = { "mitre:T1548.003" },
  severity = "error",
  importance = 0.9,
  files = { "/etc/sudoers", "/usr/local/etc/sudoers" },
  prefixes = { "/etc/sudoers.d/" },
  what = "sudoers file",
  tests = {
    { event = { type = "file.open", comm = "tee", path = "/etc/sudoers.d/x", flags = 577 },
      expect = true },
    { event = { type = "file.rename", comm = "visudo", oldpath = "/etc/sudoers.tmp",
                newpath = "/etc/sudoers" }, expect = true },
    { event = { type = "file.open", comm = "sudo", path = "/etc/sudoers", flags = 0 },
      expect = false },
  },
}

place {
  name = "privilege_policy_modified",
  desc = "A privilege policy other than sudoers was written: doas.conf, a polkit rule or "
      .. "local authority file (who may act as root, or manage units, without a password)",
  tags = { "mitre:T1548", "mitre:T1098" },
  severity = "error",
  importance = 0.9,
  files = { "/etc/doas.conf", "/usr/local/etc/doas.conf" },
  prefixes = { "/etc/polkit-1/rules.d/", "/usr/share/polkit-1/rules.d/",
               "/etc/polkit-1/localauthority/", "/var/lib/polkit-1/localauthority/",
               "/etc/polkit-1/localauthority.conf.d/" },
  what = "privilege policy",
  tests = {
    { event = { type = "file.open", comm = "tee", path = "/etc/polkit-1/rules.d/00-x.rules",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "sh", path = "/etc/doas.conf", flags = 1089 },
      expect = true },
    { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/p",
                newpath = "/var/lib/polkit-1/localauthority/50-local.d/x.pkla" }, expect = true },
    { event = { type = "file.open", comm = "polkitd", path = "/etc/polkit-1/rules.d/49-x.rules",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "dpkg", flags = 577,
                path = "/usr/share/polkit-1/rules.d/org.freedesktop.packagekit.rules" },
      expect = false },
  },
}

-- Trusted certificate authorities are defense evasion (ATT&CK T1553.004,
-- subvert trust controls), watched here with the other places: a CA of the
-- attacker's makes its TLS interception and signed payloads trusted. The
-- derived bundles (/etc/pki/ca-trust/extracted) are left to the tools that
-- build them from these sources.
place {
  name = "trusted_certificate_added",
  desc = "A certificate authority was added to or changed in the system's trust store "
      .. "(/usr/local/share/ca-certificates, /etc/ssl/certs, /etc/pki/ca-trust/source...) "
      .. "by something other than the package manager or update-ca-certificates",
  tags = { "mitre:T1553.004" },
  severity = "warning",
  importance = 0.8,
  files = { "/etc/ca-certificates.conf", "/etc/pki/tls/cert.pem", "/etc/pki/tls/certs/ca-bundle.crt" },
  prefixes = { "/usr/local/share/ca-certificates/", "/usr/share/ca-certificates/",
               "/etc/ssl/certs/", "/etc/pki/ca-trust/source/", "/usr/share/pki/ca-trust-source/",
               "/etc/pki/trust/anchors/", "/usr/share/pki/trust/anchors/",
               "/etc/ca-certificates/update.d/" },
  except = function(p, e)
    local par = e.parent
    return e.comm == "update-ca-trust" or (par ~= nil and par.comm == "update-ca-trust")
  end,
  what = "trusted certificate",
  tests = {
    { event = { type = "file.open", comm = "cp", flags = 577,
                path = "/usr/local/share/ca-certificates/corp.crt" }, expect = true },
    { event = { type = "file.symlink", comm = "ln", target = "/tmp/ca.pem",
                linkpath = "/etc/ssl/certs/5a1b2c3d.0" }, expect = true },
    { event = { type = "file.open", comm = "trust", flags = 577,
                path = "/etc/pki/ca-trust/source/anchors/x.p11-kit" }, expect = true },
    { event = { type = "file.open", comm = "update-ca-certi", flags = 577,
                path = "/etc/ssl/certs/ca-certificates.crt" }, expect = false },
    { event = { type = "file.symlink", comm = "openssl", target = "x.pem",
                linkpath = "/etc/ssl/certs/5a1b2c3d.0", parent = { comm = "update-ca-certi" } },
      expect = false },
    { event = { type = "file.open", comm = "curl", path = "/etc/ssl/certs/ca-certificates.crt",
                flags = 0 }, expect = false },
  },
}

place {
  name = "pam_configuration_modified",
  desc = "A PAM configuration or module was written: authentication itself changed "
      .. "(a module that accepts a fixed password, or logs every one)",
  tags = { "mitre:T1556.003" },
  severity = "error",
  importance = 0.9,
  files = { "/etc/pam.conf" },
  prefixes = { "/etc/pam.d/", "/lib/security/", "/lib64/security/", "/usr/lib/security/",
               "/usr/lib64/security/" },
  -- multiarch module directories: /lib/x86_64-linux-gnu/security/...
  paths = { "/lib/*/security/*", "/usr/lib/*/security/*" },
  match = function(p)
    return p:find("^/lib/[^/]+/security/") ~= nil or p:find("^/usr/lib/[^/]+/security/") ~= nil
  end,
  what = "PAM file",
  tests = {
    { event = { type = "file.open", comm = "cp", flags = 577,
                path = "/lib/x86_64-linux-gnu/security/pam_x.so" }, expect = true },
    { event = { type = "file.open", comm = "cp", flags = 577,
                path = "/usr/lib/x86_64-linux-gnu/security/pam_x.so" }, expect = true },
    { event = { type = "file.open", comm = "sed", path = "/etc/pam.d/sshd", flags = 577 },
      expect = true },
    { event = { type = "file.open", comm = "pam-auth-update", path = "/etc/pam.d/common-auth",
                flags = 577 }, expect = false },
    { event = { type = "file.open", comm = "sshd", path = "/etc/pam.d/sshd", flags = 0 },
      expect = false },
  },
}

place {
  name = "motd_script_modified",
  desc = "A message-of-the-day script was written (/etc/update-motd.d): pam_motd runs it "
      .. "as root at every login",
  tags = { "mitre:T1037" },
  severity = "warning",
  importance = 0.75,
  prefixes = { "/etc/update-motd.d/" },
  what = "motd script",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/etc/update-motd.d/99-x",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "run-parts", path = "/etc/update-motd.d/00-header",
                flags = 0 }, expect = false },
  },
}

---------------------------------------------------------------- loaders and hooks

place {
  name = "ld_preload_file_modified",
  desc = "/etc/ld.so.preload was written: every dynamically linked program then loads the "
      .. "libraries it names (userland rootkits hide this way)",
  tags = { "mitre:T1574.006", "mitre:T1014" },
  severity = "critical",
  importance = 1.0,
  files = { "/etc/ld.so.preload" },
  what = "preload list",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/etc/ld.so.preload", flags = 1089 },
      expect = true },
    { event = { type = "file.open", comm = "ls", path = "/etc/ld.so.preload", flags = 0 },
      expect = false },
  },
}

place {
  name = "library_search_path_modified",
  desc = "The dynamic linker's search path was changed (/etc/ld.so.conf, ld.so.conf.d): a "
      .. "directory listed there can shadow the system's libraries",
  tags = { "mitre:T1574.006" },
  severity = "warning",
  importance = 0.75,
  files = { "/etc/ld.so.conf" },
  prefixes = { "/etc/ld.so.conf.d/" },
  what = "linker search path",
  tests = {
    { event = { type = "file.open", comm = "tee", path = "/etc/ld.so.conf.d/x.conf",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "ldconfig", path = "/etc/ld.so.conf", flags = 0 },
      expect = false },
  },
}

place {
  name = "kernel_module_config_modified",
  desc = "Kernel module configuration was written (/etc/modules, modules-load.d, "
      .. "modprobe.d): a module loaded at every boot, or an install command run by modprobe",
  tags = { "mitre:T1547.006" },
  severity = "warning",
  importance = 0.8,
  files = { "/etc/modules" },
  prefixes = { "/etc/modules-load.d/", "/etc/modprobe.d/", "/usr/lib/modules-load.d/",
               "/lib/modules-load.d/", "/run/modules-load.d/", "/usr/lib/modprobe.d/",
               "/lib/modprobe.d/" },
  what = "module configuration",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/etc/modules-load.d/x.conf",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "modprobe", path = "/etc/modprobe.d/x.conf",
                flags = 0 }, expect = false },
  },
}

place {
  name = "udev_rule_modified",
  desc = "A udev rule was written: udev runs its RUN+= program as root when a matching "
      .. "device event comes",
  tags = { "mitre:T1546.017" },
  severity = "warning",
  importance = 0.8,
  prefixes = { "/etc/udev/rules.d/", "/lib/udev/rules.d/", "/usr/lib/udev/rules.d/",
               "/run/udev/rules.d/", "/usr/local/lib/udev/rules.d/" },
  what = "udev rule",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/etc/udev/rules.d/99-x.rules",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "systemd-udevd", flags = 0,
                path = "/lib/udev/rules.d/60-x.rules" }, expect = false },
  },
}

place {
  name = "package_manager_hook_modified",
  desc = "A package manager hook or plugin was written (APT::Update::Pre-Invoke in "
      .. "apt.conf.d, dpkg.cfg.d, yum/dnf plugins): it runs as root at the next install "
      .. "or update",
  tags = { "mitre:T1546.016" },
  severity = "warning",
  importance = 0.8,
  prefixes = { "/etc/apt/apt.conf.d/", "/etc/dpkg/dpkg.cfg.d/", "/etc/yum/pluginconf.d/",
               "/etc/dnf/plugins/", "/usr/lib/yum-plugins/", "/etc/yum.repos.d/" },
  files = { "/etc/apt/apt.conf", "/etc/dpkg/dpkg.cfg" },
  what = "package manager hook",
  tests = {
    { event = { type = "file.open", comm = "tee", path = "/etc/apt/apt.conf.d/99x",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "apt-get", path = "/etc/apt/apt.conf.d/01autoremove",
                flags = 577 }, expect = false },
  },
}

place {
  name = "network_hook_script_modified",
  desc = "A script the network stack runs was written (if-up.d, NetworkManager dispatcher, "
      .. "dhclient hooks, ppp ip-up.d): it runs as root when an interface changes",
  tags = { "mitre:T1546" },
  severity = "warning",
  importance = 0.75,
  prefixes = { "/etc/network/if-up.d/", "/etc/network/if-down.d/", "/etc/network/if-pre-up.d/",
               "/etc/network/if-post-down.d/", "/etc/NetworkManager/dispatcher.d/",
               "/etc/dhcp/dhclient-enter-hooks.d/", "/etc/dhcp/dhclient-exit-hooks.d/",
               "/etc/ppp/ip-up.d/", "/etc/ppp/ip-down.d/", "/etc/networkd-dispatcher/" },
  what = "network hook",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/etc/network/if-up.d/x",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "run-parts", path = "/etc/network/if-up.d/x",
                flags = 0 }, expect = false },
  },
}

place {
  name = "autostart_entry_modified",
  desc = "A desktop autostart entry was written (~/.config/autostart, /etc/xdg/autostart): "
      .. "it runs at every graphical login",
  tags = { "mitre:T1547.013" },
  severity = "warning",
  importance = 0.7,
  prefixes = { "/etc/xdg/autostart/" },
  paths = { "*/.config/autostart/*" },
  match = function(p)
    return p:find("/.config/autostart/", 1, true) ~= nil and not startswith_any(p, SCRATCH)
  end,
  what = "autostart entry",
  tests = {
    { event = { type = "file.open", comm = "cp", path = "/home/ann/.config/autostart/x.desktop",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "cp", path = "/tmp/.config/autostart/x.desktop",
                flags = 577 }, expect = false },
  },
}

local PY_HOOKS = tapio.set { "sitecustomize.py", "usercustomize.py" }

place {
  name = "python_startup_hook_modified",
  desc = "A Python start-up hook was written (a .pth file or sitecustomize.py in a "
      .. "site-packages directory): every Python program then runs it. pip installs "
      .. "are the exception",
  tags = { "mitre:T1546.018" },
  severity = "warning",
  importance = 0.75,
  paths = { "*/site-packages/*", "*/dist-packages/*" },
  match = function(p)
    if not (p:find("/site%-packages/") or p:find("/dist%-packages/")) then return false end
    local b = basename(p)
    -- directly in the packages directory: a package's own files are not hooks
    return (PY_HOOKS[b] ~= nil or tapio.endswith(b, ".pth"))
        and (p:find("/site%-packages/[^/]+$") or p:find("/dist%-packages/[^/]+$")) ~= nil
  end,
  except = function(p, e)
    local c = e.comm
    if c == "pip" or c == "pip3" or c == "pipx" or c == "uv" or c == "poetry" then return true end
    local cmd = e.cmdline
    return cmd ~= nil and (cmd:find(" %-m pip") ~= nil or cmd:find("/pip ", 1, true) ~= nil
                           or cmd:find("setup.py", 1, true) ~= nil)
  end,
  what = "Python start-up hook",
  tests = {
    { event = { type = "file.open", comm = "bash", flags = 577,
                path = "/usr/lib/python3/dist-packages/zz.pth" }, expect = true },
    { event = { type = "file.open", comm = "python3", flags = 577,
                path = "/home/ann/.local/lib/python3.11/site-packages/sitecustomize.py" },
      expect = true },
    { event = { type = "file.open", comm = "python3", flags = 577,
                argv = { "python3", "-m", "pip", "install", "x" },
                path = "/usr/local/lib/python3.11/dist-packages/x.pth" }, expect = false },
    { event = { type = "file.open", comm = "python3", flags = 577,
                path = "/usr/lib/python3/dist-packages/pkg/x.pth" }, expect = false },
  },
}

place {
  name = "git_hook_modified",
  desc = "A git hook was written in a repository (.git/hooks, not a .sample): it runs at "
      .. "the next commit, checkout or merge of whoever works there",
  tags = { "mitre:T1546" },
  severity = "warning",
  importance = 0.7,
  paths = { "*/.git/hooks/*" },
  match = function(p)
    return p:find("/%.git/hooks/[^/]+$") ~= nil and not tapio.endswith(p, ".sample")
  end,
  -- hook managers developers install on purpose
  except = function(p, e)
    return e.comm == "pre-commit" or e.comm == "lefthook" or e.comm == "husky"
  end,
  what = "git hook",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/srv/app/.git/hooks/post-merge",
                flags = 577 }, expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/srv/app/.git/hooks/pre-commit",
                mode = 493 }, expect = true },
    { event = { type = "file.open", comm = "git", flags = 577,
                path = "/srv/app/.git/hooks/pre-commit.sample" }, expect = false },
    { event = { type = "file.open", comm = "pre-commit", flags = 577,
                path = "/srv/app/.git/hooks/pre-commit" }, expect = false },
  },
}

-- Files the kernel runs a program from, as root, on an event.
place {
  name = "kernel_usermode_helper_changed",
  desc = "A program the kernel starts as root was changed: core_pattern (a pipe to a "
      .. "program on every crash), modprobe, the uevent helper, a binfmt_misc handler",
  tags = { "mitre:T1546", "mitre:T1547" },
  severity = "error",
  importance = 0.9,
  files = { "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
            "/proc/sys/kernel/hotplug", "/sys/kernel/uevent_helper" },
  paths = { "/proc/sys/fs/binfmt_misc/*" },
  match = function(p) return startswith(p, "/proc/sys/fs/binfmt_misc/") end,
  except = function(p, e)
    local c = e.comm
    return c == "sysctl" or c == "systemd-sysctl" or c == "apport" or c == "systemd-coredump"
        or c == "systemd-binfmt"
  end,
  what = "kernel helper",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/proc/sys/kernel/core_pattern",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "python3", path = "/proc/sys/fs/binfmt_misc/register",
                flags = 1 }, expect = true },
    { event = { type = "file.open", comm = "systemd-sysctl", flags = 577,
                path = "/proc/sys/kernel/core_pattern" }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/proc/sys/kernel/core_pattern",
                flags = 0 }, expect = false },
  },
}

---------------------------------------------------------------- server software

-- A web shell: a script the web server will run, written into what it
-- serves by the server itself (an upload hole, a template injection) or
-- by a command it was made to run (the shell's ancestors include it).
-- Deployments (git, rsync, CI, package managers) write there too, but not
-- from inside the server. CMS self-updates (WordPress plugins) do: add an
-- exception on the rule for their directories if you allow them.
local WEB_SERVERS = tapio.set {
  "nginx", "httpd", "apache2", "apache", "lighttpd", "caddy", "php-fpm", "php-cgi", "uwsgi", "gunicorn", "tomcat", "catalina", "jetty", "openresty", "hhvm", "unitd",
}
local function web_server(comm, cmdline)
  if comm == nil then return false end
  if WEB_SERVERS[comm] or WEB_SERVERS[comm:match("^([%a-]*%a)[%d.]*$") or ""] then
    return true
  end
  -- Tomcat runs as java
  return comm == "java" and cmdline ~= nil and cmdline:find("catalina", 1, true) ~= nil
end
local function from_web_server(e)
  if web_server(e.comm, e.cmdline) then return true end
  local par = e.parent
  if par and web_server(par.comm) then return true end
  local anc = e.ancestors
  if anc then
    for i = 1, #anc do
      if web_server(anc[i].comm) then return true end
    end
  end
  return false
end
local WEB_ROOTS = { "/var/www/", "/srv/www/", "/srv/http/", "/usr/share/nginx/", "/var/lib/tomcat",
                    "/opt/tomcat", "/usr/local/apache2/htdocs/", "/usr/share/tomcat",
                    "/var/lib/jetty", "/usr/local/nginx/html/" }
local WEB_PATHS = { "*/public_html/*", "*/htdocs/*", "*/webapps/*" }
for _, r in ipairs(WEB_ROOTS) do WEB_PATHS[#WEB_PATHS + 1] = r .. "*" end
local WEB_SCRIPTS = tapio.set {
  "php", "php3", "php4", "php5", "php7", "php8", "phtml", "phar", "pht", "inc", "jsp", "jspx",
  "jsw", "jsv", "jspf", "war", "asp", "aspx", "ashx", "asmx", "cgi", "pl", "py", "sh", "shtml",
}

place {
  name = "web_shell_written",
  desc = "A script a web server runs (.php, .jsp, .war, .cgi...) was written into a web root "
      .. "by the web server or by a command it started: a web shell left behind for the way "
      .. "back in",
  tags = { "mitre:T1505.003" },
  severity = "error",
  importance = 0.9,
  paths = WEB_PATHS,
  match = function(p)
    local ext = p:match("%.(%w+)$")
    if ext == nil or not WEB_SCRIPTS[ext:lower()] then return false end
    return startswith_any(p, WEB_ROOTS) or p:find("/public_html/", 1, true) ~= nil
        or p:find("/htdocs/", 1, true) ~= nil or p:find("/webapps/", 1, true) ~= nil
  end,
  except = function(p, e) return not from_web_server(e) end,
  what = "web script",
  tests = {
    { event = { type = "file.open", comm = "php-fpm8.2", flags = 577,
                path = "/var/www/html/uploads/avatar.php" }, expect = true },
    { event = { type = "file.open", comm = "sh", flags = 577, path = "/var/www/html/x.jsp",
                parent = { comm = "httpd" } }, expect = true },
    { event = { type = "file.rename", comm = "java", oldpath = "/tmp/x",
                newpath = "/var/lib/tomcat9/webapps/cmd.war",
                argv = { "java", "org.apache.catalina.startup.Bootstrap", "start" } },
      expect = true },
    { event = { type = "file.open", comm = "python3", flags = 577,
                path = "/home/ann/public_html/s.PHP",
                ancestors = { { comm = "bash" }, { comm = "nginx" } } }, expect = true },
    { event = { type = "file.open", comm = "git", flags = 577, path = "/var/www/html/index.php",
                parent = { comm = "bash" } }, expect = false },
    { event = { type = "file.open", comm = "php-fpm8.2", flags = 577,
                path = "/var/www/html/uploads/avatar.png" }, expect = false },
    { event = { type = "file.open", comm = "nginx", flags = 577,
                path = "/var/lib/nginx/body/0000000001" }, expect = false },
    -- composer, artisan: the php command line, run by a person deploying
    { event = { type = "file.open", comm = "php", flags = 577,
                path = "/var/www/app/vendor/autoload.php", parent = { comm = "bash" } },
      expect = false },
  },
}

---------------------------------------------------------------- file integrity

-- Three rules watching one tree, one per shape of event (its path; old and
-- new names; a link and its target). What a place rule above reports is
-- left to it.
local function writes(e)
  return e.type ~= "file.open" or (e.flags & O_ACCMODE) ~= 0
      or (e.flags & (O_CREAT | O_TRUNC)) ~= 0
end

local function watch(t)
  watched[#watched + 1] = function(p) return startswith_any(p, t.prefixes) end
  glob_each(t.prefixes, "*")
  -- hit()'s prefix test and writes(), checked in C first ("/etc/" as "/etc/*").
  local under = {}
  for i, d in ipairs(t.prefixes) do under[i] = d .. "*" end
  local function hit(e, p)
    return p ~= nil and e.ret >= 0 and startswith_any(p, t.prefixes)
        and not (t.except and t.except(p, e)) and not covered(p) and not managed(e)
  end
  rule {
    name = t.name .. "_changed",
    desc = t.what .. " was written, deleted, or had its mode or owner changed by a "
        .. "program other than a package manager",
    events = { "file.open", "file.unlink", "file.chmod", "file.chown" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    match = { set = { persistence_path = true }, path = under, ["file.open"] = WRITES },
    when = function(e) return e.persistence_path ~= nil and writes(e) and hit(e, e.path) end,
    output = "${type} ${path} by " .. WHO,
    tests = t.tests.changed,
  }
  rule {
    name = t.name .. "_replaced",
    desc = t.what .. " was replaced or linked by a rename or hard link",
    events = { "file.rename", "file.link" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    match = { set = { persistence_path = true }, newpath = under },
    when = function(e) return e.persistence_path ~= nil and hit(e, e.newpath) end,
    output = "${type} ${oldpath} -> ${newpath} by " .. WHO,
    tests = t.tests.replaced,
  }
  rule {
    name = t.name .. "_symlinked",
    desc = "A symbolic link was created as " .. t.what:lower(),
    events = { "file.symlink" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    match = { set = { persistence_path = true }, linkpath = under },
    when = function(e) return e.persistence_path ~= nil and hit(e, e.linkpath) end,
    output = "symlink ${linkpath} -> ${target} by " .. WHO,
    tests = t.tests.symlinked,
  }
end

-- Rewritten by the system as part of normal operation.
local ETC_VOLATILE = tapio.set {
  "/etc/resolv.conf", "/etc/adjtime", "/etc/mtab", "/etc/ld.so.cache", "/etc/machine-id",
}
-- Opened for writing, these are default/files.lua's
-- sensitive_file_opened_for_writing: not reported twice.
local ETC_SENSITIVE = tapio.set {
  "/etc/ssh/sshd_config", "/etc/pam.conf",
}

watch {
  name = "system_config",
  what = "A file under /etc",
  prefixes = { "/etc/" },
  except = function(p, e)
    return ETC_VOLATILE[p] or (e.type == "file.open" and ETC_SENSITIVE[p])
        -- account tools rewrite the account files with backups and locks:
        -- account_created reports the command once
        or (ACCOUNT_TOOLS[e.comm] and account_file(p))
        -- an editor's swap, backup and probe files next to what it edits
        or p:find("/%.[^/]+%.sw[a-p]x?$") ~= nil or tapio.endswith(p, "~")
        or tapio.endswith(p, "/4913")
  end,
  severity = "warning", importance = 0.7,
  tags = { "fim", "mitre:T1543", "mitre:T1098" },
  tests = {
    changed = {
      { event = { type = "file.open", comm = "vi", path = "/etc/hosts", flags = 1 | 64 },
        expect = true,
        output = "file.open /etc/hosts by vi (pid 1000, uid 0, exe ?, parent ?[1], container "
              .. "host, pod -/-)" },
      { event = { type = "file.chmod", comm = "chmod", path = "/etc/hosts", mode = 438 },
        expect = true },
      { event = { type = "file.chmod", comm = "chmod", path = "/etc/shadow", mode = 438 },
        expect = false }, -- account_database_edited's
      { event = { type = "file.unlink", comm = "rm", path = "/etc/motd" }, expect = true },
      { event = { type = "file.open", comm = "vi", path = "/etc/cron.d/job", flags = 1 | 64 },
        expect = false }, -- cron_job_modified's
      { event = { type = "file.open", comm = "cat", path = "/etc/hosts", flags = 0 },
        expect = false },
      { event = { type = "file.open", comm = "dpkg", path = "/etc/hosts", flags = 1 },
        expect = false },
      { event = { type = "file.open", comm = "dhclient", path = "/etc/resolv.conf", flags = 577 },
        expect = false },
      { event = { type = "file.open", comm = "useradd", path = "/etc/passwd+", flags = 577 },
        expect = false },
      { event = { type = "file.open", comm = "useradd", path = "/etc/.pwd.lock", flags = 66 },
        expect = false },
      { event = { type = "file.open", comm = "chpasswd", path = "/etc/nshadow", flags = 577 },
        expect = false },
      { event = { type = "file.open", comm = "vi", path = "/etc/nsswitch.conf", flags = 577 },
        expect = true },
      { event = { type = "file.open", comm = "vim", path = "/etc/.hosts.swp", flags = 194 },
        expect = false },
      { event = { type = "file.open", comm = "vim", path = "/etc/.hosts.swpx", flags = 194 },
        expect = false },
      { event = { type = "file.unlink", comm = "rm", path = "/etc/motd", ret = -13 },
        expect = false },
      { event = { type = "file.unlink", comm = "rm", path = "/etcetera/x" }, expect = false },
    },
    replaced = {
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/x", newpath = "/etc/hosts" },
        expect = true,
        output = "file.rename /tmp/x -> /etc/hosts by mv (pid 1000, uid 0, exe ?, parent ?[1], "
              .. "container host, pod -/-)" },
      { event = { type = "file.rename", comm = "useradd", oldpath = "/etc/group+",
                  newpath = "/etc/group" }, expect = false },
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/x",
                  newpath = "/etc/systemd/system/evil.service" }, expect = false },
      { event = { type = "file.rename", comm = "mv", oldpath = "/etc/x", newpath = "/tmp/x" },
        expect = false },
    },
    symlinked = {
      { event = { type = "file.symlink", comm = "ln", target = "/tmp/h", linkpath = "/etc/hosts" },
        expect = true },
      { event = { type = "file.symlink", comm = "ln", target = "/etc/x", linkpath = "/tmp/x" },
        expect = false },
    },
  },
}

watch {
  name = "system_binary",
  what = "A system binary, library or boot file",
  prefixes = { "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/",
               "/usr/local/sbin/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
               "/usr/libexec/", "/boot/" },
  except = function(p)
    return p:find("/__pycache__/", 1, true) ~= nil -- interpreters' byte-code caches
  end,
  severity = "error", importance = 0.85,
  tags = { "fim", "mitre:T1554", "mitre:T1574" },
  tests = {
    changed = {
      { event = { type = "file.open", comm = "cp", path = "/usr/bin/ls", flags = 1 | 512 },
        expect = true },
      { event = { type = "file.chmod", comm = "chmod", path = "/bin/bash", mode = 3565 },
        expect = true },
      { event = { type = "file.open", comm = "bash", path = "/usr/bin/ls", flags = 0 },
        expect = false },
      { event = { type = "file.open", comm = "dpkg", path = "/usr/bin/ls", flags = 577 },
        expect = false },
      { event = { type = "file.open", comm = "cp", flags = 577,
                  path = "/lib/x86_64-linux-gnu/security/pam_x.so" }, expect = false },
      { event = { type = "file.open", comm = "python3",
                  path = "/usr/lib/python3/dist-packages/__pycache__/x.pyc", flags = 577 },
        expect = false },
    },
    replaced = {
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/sshd",
                  newpath = "/usr/sbin/sshd" }, expect = true },
    },
    symlinked = {
      { event = { type = "file.symlink", comm = "ln", target = "/tmp/evil",
                  linkpath = "/usr/local/bin/sudo" }, expect = true },
    },
  },
}

watch {
  name = "ssh_server_config",
  what = "An SSH server setting or host key (/etc/ssh)",
  prefixes = { "/etc/ssh/" },
  except = function(p, e)
    -- sshd_config opened for writing is default/files.lua's; ssh-keygen -A
    -- makes the host keys
    return (e.type == "file.open" and p == "/etc/ssh/sshd_config") or e.comm == "ssh-keygen"
  end,
  severity = "error", importance = 0.85,
  tags = { "fim", "mitre:T1098.004", "mitre:T1556" },
  tests = {
    changed = {
      { event = { type = "file.unlink", comm = "rm", path = "/etc/ssh/ssh_host_ed25519_key" },
        expect = true },
      { event = { type = "file.open", comm = "tee", path = "/etc/ssh/sshd_config.d/x.conf",
                  flags = 577 }, expect = true },
      { event = { type = "file.open", comm = "vi", path = "/etc/ssh/sshd_config", flags = 1 },
        expect = false },
      { event = { type = "file.open", comm = "ssh-keygen", flags = 577,
                  path = "/etc/ssh/ssh_host_rsa_key" }, expect = false },
    },
    replaced = {
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/c",
                  newpath = "/etc/ssh/sshd_config" }, expect = true },
    },
    symlinked = {
      { event = { type = "file.symlink", comm = "ln", target = "/tmp/k",
                  linkpath = "/etc/ssh/ssh_host_rsa_key" }, expect = true },
    },
  },
}

-- Once per file event, for every rule above: the path it changes, when one
-- of them watches it (the rules match on persistence_path in C). Reads
-- (most opens) never call it: the engine checks the open's flags first.
enrich({ "file.open", "file.rename", "file.link", "file.symlink", "file.chmod", "file.chown",
         "file.unlink" },
       { match = { ["file.open"] = WRITES, ["path|newpath|linkpath"] = watched_globs } },
       function(e)
  local p = changed(e)
  if p == nil then return end
  for i = 1, #watched do
    if watched[i](p) then
      e:set("persistence_path", p)
      return
    end
  end
end)

---------------------------------------------------------------- the kernel

rule {
  name = "kernel_module_loaded",
  desc = "A kernel module was loaded after boot: rootkits load as modules",
  events = { "security.module_load" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1547.006", "mitre:T1014" },
  when = function(e) return true end,
  output = "kernel module ${name} loaded (taints ${taints}) by " .. WHO,
  tests = {
    { event = { type = "security.module_load", comm = "modprobe", name = "diamorphine",
                taints = 4096 },
      expect = true,
      output = "kernel module diamorphine loaded (taints 4096) by modprobe (pid 1000, uid 0, "
            .. "exe ?, parent ?[1], container host, pod -/-)" },
  },
}
