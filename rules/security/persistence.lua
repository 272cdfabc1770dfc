-- Persistence (ATT&CK TA0003): what makes an attacker's code run again
-- after a reboot or a login, and the file integrity monitoring of the
-- places it hides in: system configuration (/etc), system binaries,
-- libraries and boot files, SSH keys and server settings, kernel modules.
--
-- A change is a successful open for writing (write access, O_CREAT or
-- O_TRUNC), unlink, chmod or chown of a path in a watched tree, or a
-- rename, link or symlink that puts a name there. Package managers change
-- these trees by design: what they do is not reported. Each tree has three
-- rules, one per shape of event (its path; old and new names; a link and
-- its target), so every alert names the exact files.

local startswith_any = tapio.startswith_any
local O_ACCMODE, O_CREAT, O_TRUNC = 3, 64, 512

local INSTALLERS = tapio.set {
  "dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "rpm", "dnf", "yum",
  "microdnf", "zypper", "apk", "pacman", "snapd", "ldconfig", "update-alternat",
  "dpkg-preconfigu", "dpkg-trigger", "update-ca-certi", "depmod",
}

local function writes(e)
  return e.type ~= "file.open" or (e.flags & O_ACCMODE) ~= 0
      or (e.flags & (O_CREAT | O_TRUNC)) ~= 0
end

-- Three rules watching one tree. t: name, what (for desc), prefixes,
-- except(path, e) -> true to ignore, severity, importance, tags, and tests
-- for each rule: tests.changed, tests.replaced, tests.symlinked.
local function watch(t)
  local function hit(e, p)
    return p ~= nil and e.ret >= 0 and not INSTALLERS[e.comm]
        and startswith_any(p, t.prefixes) and not (t.except and t.except(p, e))
  end
  rule {
    name = t.name .. "_changed",
    desc = t.what .. " was written, deleted, or had its mode or owner changed by a "
        .. "program other than a package manager",
    events = { "file.open", "file.unlink", "file.chmod", "file.chown" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    when = function(e) return writes(e) and hit(e, e.path) end,
    output = "${type} ${path} by ${comm} (pid ${pid}, ppid ${ppid}, uid ${uid})",
    tests = t.tests.changed,
  }
  rule {
    name = t.name .. "_replaced",
    desc = t.what .. " was replaced or linked by a rename or hard link",
    events = { "file.rename", "file.link" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    when = function(e) return hit(e, e.newpath) end,
    output = "${type} ${oldpath} -> ${newpath} by ${comm} (pid ${pid}, ppid ${ppid}, uid ${uid})",
    tests = t.tests.replaced,
  }
  rule {
    name = t.name .. "_symlinked",
    desc = "A symbolic link was created as " .. t.what:lower(),
    events = { "file.symlink" },
    severity = t.severity, importance = t.importance, tags = t.tags,
    when = function(e) return hit(e, e.linkpath) end,
    output = "symlink ${linkpath} -> ${target} by ${comm} (pid ${pid}, ppid ${ppid}, uid ${uid})",
    tests = t.tests.symlinked,
  }
end

-- Rewritten by the system as part of normal operation.
local ETC_VOLATILE = tapio.set {
  "/etc/resolv.conf", "/etc/adjtime", "/etc/mtab", "/etc/ld.so.cache", "/etc/.pwd.lock",
  "/etc/machine-id",
}
-- Opened for writing, these are default/files.lua's
-- sensitive_file_opened_for_writing: not reported twice.
local ETC_SENSITIVE = tapio.set {
  "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group", "/etc/sudoers",
  "/etc/ssh/sshd_config", "/etc/ld.so.preload", "/etc/pam.conf",
}

watch {
  name = "system_config",
  what = "A file under /etc or a user's crontab",
  -- /var/spool/cron: crontabs, which run code on a schedule like /etc/cron.d.
  prefixes = { "/etc/", "/var/spool/cron/" },
  except = function(p, e)
    return ETC_VOLATILE[p] or (e.type == "file.open" and ETC_SENSITIVE[p])
        or tapio.startswith(p, "/etc/ssh/") -- ssh_keys below
  end,
  severity = "warning", importance = 0.7,
  tags = { "fim", "mitre:T1543", "mitre:T1098", "mitre:T1053.003" },
  tests = {
    changed = {
      { event = { type = "file.open", comm = "vi", path = "/etc/cron.d/job", flags = 1 | 64 },
        expect = true, output = "file.open /etc/cron.d/job by vi (pid 1000, ppid 1, uid 0)" },
      { event = { type = "file.open", comm = "sh", path = "/var/spool/cron/crontabs/root",
                  flags = 1 | 512 }, expect = true },
      { event = { type = "file.chmod", comm = "chmod", path = "/etc/shadow", mode = 438 },
        expect = true },
      { event = { type = "file.unlink", comm = "rm", path = "/etc/motd" }, expect = true },
      { event = { type = "file.open", comm = "cat", path = "/etc/hosts", flags = 0 },
        expect = false },
      { event = { type = "file.open", comm = "dpkg", path = "/etc/hosts", flags = 1 },
        expect = false },
      { event = { type = "file.open", comm = "dhclient", path = "/etc/resolv.conf", flags = 577 },
        expect = false },
      { event = { type = "file.open", comm = "vi", path = "/etc/shadow", flags = 1 },
        expect = false },
      { event = { type = "file.unlink", comm = "rm", path = "/etc/motd", ret = -13 },
        expect = false },
      { event = { type = "file.unlink", comm = "rm", path = "/etcetera/x" }, expect = false },
    },
    replaced = {
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/x",
                  newpath = "/etc/systemd/system/evil.service" },
        expect = true,
        output = "file.rename /tmp/x -> /etc/systemd/system/evil.service by mv (pid 1000, "
              .. "ppid 1, uid 0)" },
      { event = { type = "file.rename", comm = "mv", oldpath = "/etc/x", newpath = "/tmp/x" },
        expect = false },
    },
    symlinked = {
      { event = { type = "file.symlink", comm = "ln", target = "/tmp/job",
                  linkpath = "/etc/cron.d/job" }, expect = true },
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
        expect = true, output = "file.open /usr/bin/ls by cp (pid 1000, ppid 1, uid 0)" },
      { event = { type = "file.chmod", comm = "chmod", path = "/bin/bash", mode = 3565 },
        expect = true },
      { event = { type = "file.open", comm = "bash", path = "/usr/bin/ls", flags = 0 },
        expect = false },
      { event = { type = "file.open", comm = "dpkg", path = "/usr/bin/ls", flags = 577 },
        expect = false },
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

-- In a user's .ssh, the files sshd reads at login: keys it accepts, a
-- script it runs (rc), variables it sets (environment). A user's own key
-- pairs and known_hosts are not watched: making and removing them is
-- ordinary work.
local SSH_LOGIN_FILES = tapio.set { "authorized_keys", "authorized_keys2", "rc", "environment" }

watch {
  name = "ssh_keys",
  what = "An authorized_keys file, an SSH login script or an SSH server setting or host key",
  prefixes = { "/etc/ssh/", "/root/.ssh/", "/home/" },
  except = function(p, e)
    if not tapio.startswith(p, "/etc/ssh/") then
      return not (p:find("/.ssh/", 1, true) and SSH_LOGIN_FILES[tapio.basename(p)])
    end
    -- sshd_config opened for writing is default/files.lua's.
    return e.type == "file.open" and p == "/etc/ssh/sshd_config"
  end,
  severity = "error", importance = 0.9,
  tags = { "fim", "mitre:T1098.004" },
  tests = {
    changed = {
      { event = { type = "file.open", comm = "bash", path = "/home/ann/.ssh/authorized_keys",
                  flags = 1 | 1024 }, expect = true },
      { event = { type = "file.unlink", comm = "rm", path = "/etc/ssh/ssh_host_ed25519_key" },
        expect = true },
      { event = { type = "file.chmod", comm = "chmod", path = "/root/.ssh/authorized_keys",
                  mode = 438 }, expect = true },
      { event = { type = "file.open", comm = "ssh-keygen", path = "/home/ann/.ssh/id_ed25519",
                  flags = 577 }, expect = false },
      { event = { type = "file.unlink", comm = "rm", path = "/home/ann/.ssh/id_rsa.pub" },
        expect = false },
      { event = { type = "file.open", comm = "ssh", path = "/home/ann/.ssh/known_hosts",
                  flags = 1025 }, expect = false },
      { event = { type = "file.open", comm = "vi", path = "/home/ann/notes", flags = 1 },
        expect = false },
      { event = { type = "file.open", comm = "vi", path = "/etc/ssh/sshd_config", flags = 1 },
        expect = false },
    },
    replaced = {
      { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/k",
                  newpath = "/root/.ssh/authorized_keys" }, expect = true },
    },
    symlinked = {
      { event = { type = "file.symlink", comm = "ln", target = "/tmp/k",
                  linkpath = "/home/ann/.ssh/authorized_keys2" }, expect = true },
    },
  },
}

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
