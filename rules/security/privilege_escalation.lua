-- Privilege escalation (ATT&CK TA0004): a process that was not root
-- becoming root, set-uid and capability bits put on files, capabilities
-- raised, sudo abused, services reaching for root, root running a command
-- planted in a directory anyone can write, accounts made into root.

local startswith, startswith_any, basename = tapio.startswith, tapio.startswith_any,
                                             tapio.basename
local O_CREAT = 64
local S_ISUID, S_ISGID, S_IWOTH = 2048, 1024, 2
local CLONE_NEWUSER = 0x10000000

local WHO = "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}], "
         .. "container ${container.id|'host'}, pod ${k8s.namespace|'-'}/${k8s.pod|'-'})"

-- Package managers and their maintainer scripts: they install set-uid
-- programs, capabilities and accounts by design.
local INSTALLERS = tapio.set {
  "dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "rpm", "dnf", "yum", "microdnf",
  "zypper", "apk", "pacman", "snapd", "packagekitd", "dpkg-statoverri", "systemd-sysuser",
}

local function installing(e)
  if INSTALLERS[e.comm] then return true end
  local par = e.parent
  if par and par.comm and INSTALLERS[par.comm] then return true end
  local anc = e.ancestors
  if anc then
    for i = 1, #anc do
      if anc[i].comm and INSTALLERS[anc[i].comm] then return true end
    end
  end
  return false
end

-- Whether some ancestor (parent first) is one of names.
local function descends_from(e, names)
  local par = e.parent
  if par and par.comm and names[par.comm] then return par.comm end
  local anc = e.ancestors
  if anc then
    for i = 1, #anc do
      if anc[i].comm and names[anc[i].comm] then return anc[i].comm end
    end
  end
  return nil
end

---------------------------------------------------------------- becoming root

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
        .. "euid ${old_euid}->${new_euid}; " .. WHO,
  tests = {
    { event = { type = "security.setuid", comm = "exploit", uid = 1000, old_uid = 1000,
                old_euid = 1000, new_uid = 0, new_euid = 0 },
      expect = true,
      output = "exploit (pid 1000) became root: uid 1000->0, euid 1000->0; exploit (pid 1000, "
            .. "uid 1000, exe ?, parent ?[1], container host, pod -/-)" },
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
  output = "${comm} joined group root: gid ${old_gid}->${new_gid}, egid ${old_egid}->"
        .. "${new_egid}; " .. WHO,
  tests = {
    { event = { type = "security.setgid", comm = "x", old_gid = 1000, old_egid = 1000,
                new_gid = 0, new_egid = 0 }, expect = true },
    { event = { type = "security.setgid", comm = "newgrp", old_gid = 1000, old_egid = 0,
                new_gid = 0, new_egid = 0 }, expect = false },
  },
}

-- Set-uid-root programs that ship with the system, in the directories they
-- ship in: making their caller root is their job.
local SETUID_PROGRAMS = tapio.set {
  "sudo", "sudoedit", "su", "pkexec", "doas", "passwd", "newgrp", "sg", "chsh", "chfn",
  "gpasswd", "mount", "umount", "fusermount", "fusermount3", "ping", "ping6", "crontab", "at",
  "ssh-keysign", "Xorg", "Xorg.wrap", "dbus-daemon-launch-helper", "polkit-agent-helper-1",
  "unix_chkpwd", "chage", "expiry", "pppd", "ntfs-3g", "staprun", "mount.nfs", "mount.cifs",
  "newuidmap", "newgidmap", "write", "wall", "bwrap", "snap-confine", "userhelper", "runuser",
}
local SYSTEM_DIRS = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/lib/", "/usr/libexec/",
                      "/lib/" }

rule {
  name = "setuid_root_by_unknown_program",
  desc = "A set-uid-root program that is not one the system ships (sudo, su, passwd...) "
      .. "made its caller root: a set-uid copy of a shell or an interpreter, left behind "
      .. "to get root back",
  events = { "security.setuid" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1548.001" },
  when = function(e)
    if not (e.ret == 0 and e.old_uid ~= 0 and e.old_euid == 0 and e.new_uid == 0) then
      return false
    end
    local exe = e.exe
    return not (SETUID_PROGRAMS[e.comm] and (exe == nil or startswith_any(exe, SYSTEM_DIRS)))
  end,
  output = "${exe|comm} (set-uid root) made uid ${old_uid} root; " .. WHO,
  tests = {
    { event = { type = "security.setuid", comm = "python3", exe = "/tmp/.x/python3", uid = 1000,
                old_uid = 1000, old_euid = 0, new_uid = 0, new_euid = 0 }, expect = true },
    { event = { type = "security.setuid", comm = "sudo", exe = "/tmp/sudo", uid = 1000,
                old_uid = 1000, old_euid = 0, new_uid = 0, new_euid = 0 }, expect = true },
    { event = { type = "security.setuid", comm = "sudo", exe = "/usr/bin/sudo", uid = 1000,
                old_uid = 1000, old_euid = 0, new_uid = 0, new_euid = 0 }, expect = false },
    { event = { type = "security.setuid", comm = "python3", old_uid = 0, old_euid = 0,
                new_uid = 0, new_euid = 0 }, expect = false },
  },
}

-- Network services: a shell or root tool under them means code execution.
local SERVICES = tapio.set {
  "nginx", "apache2", "httpd", "lighttpd", "caddy", "php-fpm", "php-fpm7.4", "php-fpm8.1",
  "php-fpm8.2", "php-fpm8.3", "php-cgi", "uwsgi", "gunicorn", "tomcat", "java", "node",
  "mysqld", "mariadbd", "postgres", "redis-server", "mongod", "memcached", "named", "dnsmasq",
  "squid", "haproxy", "vsftpd", "proftpd", "exim4", "postfix", "dovecot", "smbd", "slapd",
  "elasticsearch", "jenkins", "grafana-server",
}
local ROOT_TOOLS = tapio.set { "sudo", "su", "pkexec", "doas", "sudoedit", "runuser", "newgrp",
                               "sg", "chroot", "nsenter", "unshare", "capsh", "setpriv" }

rule {
  name = "privilege_tool_run_by_service",
  desc = "sudo, su, pkexec or another tool that changes privileges was started under a "
      .. "network service (web server, database...): code running in the service is "
      .. "reaching for root",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1548.003", "mitre:T1068" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    if e.ret ~= 0 or not ROOT_TOOLS[basename(e.filename)] then return false end
    return descends_from(e, SERVICES) ~= nil
  end,
  output = "${filename} run under a service: ${cmdline}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-n", "id" }, parent = { comm = "sh" },
                ancestors = { { comm = "php-fpm8.2" }, { comm = "systemd" } } }, expect = true },
    { event = { type = "process.exec", comm = "su", filename = "/bin/su",
                parent = { comm = "postgres" } }, expect = true },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                parent = { comm = "bash" }, ancestors = { { comm = "sshd" } } }, expect = false },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id",
                parent = { comm = "nginx" } }, expect = false },
  },
}

---------------------------------------------------------------- files made privileged

-- The mode of a chmod, or of a file created by open(O_CREAT, mode).
local function new_mode(e)
  if e.ret < 0 then return nil end
  if e.type == "file.chmod" then return e.mode end
  if (e.flags & O_CREAT) ~= 0 then return e.mode end
  return nil
end

rule {
  name = "setuid_bit_set",
  desc = "The set-uid bit was put on a file (chmod u+s, chmod 4755, install -m 4755): "
      .. "whoever runs it runs as its owner. Package managers are the exception",
  events = { "file.chmod", "file.open" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1548.001" },
  match = { set = { privilege_path = true } }, -- set by the shared check below
  when = function(e)
    local m = new_mode(e)
    return m ~= nil and (m & S_ISUID) ~= 0 and not installing(e)
  end,
  output = "set-uid bit put on ${path} by " .. WHO,
  tests = {
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/.sh", mode = 3565 },
      expect = true },
    { event = { type = "file.open", comm = "python3", path = "/tmp/x", flags = 577,
                mode = 2541 }, expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/x", mode = 493 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/tmp/x", flags = 0, mode = 2541 },
      expect = false },
    { event = { type = "file.chmod", comm = "dpkg", path = "/usr/bin/passwd", mode = 2541 },
      expect = false },
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/x", mode = 3565, ret = -1 },
      expect = false },
  },
}

rule {
  name = "setgid_bit_set",
  desc = "The set-gid bit was put on a file or directory (chmod g+s): on a program, whoever "
      .. "runs it gets its group; on a directory it is common for shared folders",
  events = { "file.chmod", "file.open" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1548.001" },
  match = { set = { privilege_path = true } }, -- set by the shared check below
  when = function(e)
    local m = new_mode(e)
    return m ~= nil and (m & S_ISGID) ~= 0 and (m & S_ISUID) == 0 and not installing(e)
  end,
  output = "set-gid bit put on ${path} by " .. WHO,
  tests = {
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/x", mode = 1517 },
      expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/x", mode = 3565 },
      expect = false },
  },
}

-- Capabilities that amount to root: chown 0, dac_override 1,
-- dac_read_search 2, fowner 3, setgid 6, setuid 7, setpcap 8, net_admin 12,
-- sys_module 16, sys_rawio 17, sys_chroot 18, sys_ptrace 19, sys_admin 21,
-- mknod 27, setfcap 31, perfmon 38, bpf 39.
local ROOT_CAPS = 0
for _, bit in ipairs({ 0, 1, 2, 3, 6, 7, 8, 12, 16, 17, 18, 19, 21, 27, 31, 38, 39 }) do
  ROOT_CAPS = ROOT_CAPS | (1 << bit)
end

rule {
  name = "file_capability_set",
  desc = "A capability that amounts to root (cap_setuid, cap_sys_admin, cap_dac_override...) "
      .. "was given to a program (its security.capability attribute written: setcap, or "
      .. "anything else): whoever runs it gets it. Package managers are the exception",
  events = { "file.xattr" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1548" },
  when = function(e)
    if e.ret ~= 0 or e.name ~= "security.capability" or e.op_str ~= "set" then return false end
    local caps = (e.cap_permitted or 0) | (e.cap_inheritable or 0)
    return (caps & ROOT_CAPS) ~= 0 and not installing(e)
  end,
  output = "capabilities ${cap_permitted_str|cap_inheritable_str} (effective: ${cap_effective}) "
        .. "given to ${path} by " .. WHO,
  tests = {
    { event = { type = "file.xattr", comm = "setcap", path = "/tmp/python3", op = 1,
                name = "security.capability", cap_permitted = 1 << 7, cap_effective = true },
      expect = true,
      output = "capabilities CAP_SETUID (effective: true) given to /tmp/python3 by setcap "
            .. "(pid 1000, uid 0, exe ?, parent ?[1], container host, pod -/-)" },
    { event = { type = "file.xattr", comm = "python3", path = "/tmp/tar", op = 1,
                name = "security.capability", cap_permitted = (1 << 2) | (1 << 13) },
      expect = true },
    { event = { type = "file.xattr", comm = "setcap", path = "/usr/bin/node", op = 1,
                name = "security.capability", cap_permitted = 1 << 10 }, expect = false },
    { event = { type = "file.xattr", comm = "setcap", path = "/tmp/x", op = 2,
                name = "security.capability" }, expect = false },
    { event = { type = "file.xattr", comm = "setfattr", path = "/tmp/x", op = 1,
                name = "user.comment" }, expect = false },
    { event = { type = "file.xattr", comm = "setcap", path = "/bin/ping", op = 1,
                name = "security.capability", cap_permitted = 1 << 7, parent = { comm = "sh" },
                ancestors = { { comm = "dpkg" } } }, expect = false },
  },
}

-- Directories root's PATH holds on every distribution.
local ROOT_PATH_DIRS = tapio.set { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
                                   "/sbin", "/bin", "/snap/bin" }

rule {
  name = "root_path_made_writable",
  desc = "A directory of root's PATH, or a program in one, was made writable by everyone "
      .. "(chmod o+w, 777): anyone can then plant a command that root runs",
  events = { "file.chmod" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1574.007", "mitre:T1222.002" },
  match = { set = { privilege_path = true } }, -- set by the shared check below
  when = function(e)
    if e.ret < 0 or (e.mode & S_IWOTH) == 0 then return false end
    local p = e.path
    return ROOT_PATH_DIRS[p] ~= nil or ROOT_PATH_DIRS[tapio.dirname(p)] ~= nil
  end,
  output = "${path} made writable by everyone by " .. WHO,
  tests = {
    { event = { type = "file.chmod", comm = "chmod", path = "/usr/local/bin", mode = 511 },
      expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/usr/bin/passwd", mode = 2559 },
      expect = true },
    { event = { type = "file.chmod", comm = "chmod", path = "/usr/local/bin", mode = 493 },
      expect = false },
    { event = { type = "file.chmod", comm = "chmod", path = "/tmp/bin", mode = 511 },
      expect = false },
  },
}

-- Where anyone (or any user) can write.
local WRITABLE_DIRS = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/home/", "/run/user/",
                        "/var/crash/", "/var/lib/php/sessions/" }

-- Commands root types every day: a program by one of these names in a
-- directory users can write is waiting for root's PATH to reach it.
local COMMON_COMMANDS = tapio.set {
  "ls", "ps", "cat", "id", "whoami", "sudo", "su", "systemctl", "service", "apt", "apt-get",
  "dpkg", "yum", "dnf", "rpm", "cp", "mv", "rm", "grep", "find", "top", "htop", "netstat", "ss",
  "ip", "ifconfig", "mount", "umount", "passwd", "ssh", "scp", "curl", "wget", "python",
  "python3", "perl", "bash", "sh", "vi", "vim", "nano", "less", "more", "tar", "gzip", "chmod",
  "chown", "kill", "pkill", "uname", "hostname", "date", "df", "du", "free", "uptime", "who",
  "w", "last", "crontab", "docker", "kubectl", "crictl", "git", "make", "which", "env", "sed",
  "awk", "head", "tail", "sort", "touch", "mkdir", "ln", "journalctl", "dmesg", "lsof", "ping",
  "clear", "reboot", "shutdown", "useradd", "usermod", "iptables", "nft", "tcpdump", "openssl",
}

rule {
  name = "root_ran_command_from_writable_dir",
  desc = "Root ran a program from a directory ordinary users can write (/tmp, /home...) "
      .. "under the name of a common command, or by a bare name found through PATH: its "
      .. "PATH holds a writable directory, or ., and a planted ls, sudo or systemctl ran "
      .. "as root",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1574.007" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    if e.ret ~= 0 or e.uid ~= 0 or not startswith_any(e.filename, WRITABLE_DIRS) then
      return false
    end
    if COMMON_COMMANDS[basename(e.filename)] then return true end
    -- a bare command name: the shell searched PATH for it (a script's argv
    -- starts with its interpreter instead)
    local argv = e.argv
    local a0 = argv and argv[1]
    return a0 ~= nil and a0 ~= "" and not a0:find("/", 1, true)
  end,
  output = "root ran ${filename} (${argv}); " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "ls", uid = 0, filename = "/tmp/.bin/ls",
                argv = { "/bin/sh", "/tmp/.bin/ls", "-la" } }, expect = true },
    { event = { type = "process.exec", comm = "tool", uid = 0, filename = "/home/ann/bin/tool",
                argv = { "tool" } }, expect = true },
    { event = { type = "process.exec", comm = "ls", uid = 0, filename = "/usr/bin/ls",
                argv = { "ls" } }, expect = false },
    { event = { type = "process.exec", comm = "build", uid = 0, filename = "/tmp/x/build",
                argv = { "./build" } }, expect = false },
    { event = { type = "process.exec", comm = "ls", uid = 1000, filename = "/home/ann/bin/ls",
                argv = { "ls" } }, expect = false },
  },
}

---------------------------------------------------------------- sudo

rule {
  name = "sudo_exploit_arguments",
  desc = "sudo or sudoedit was run with arguments of a known exploit: a user id of -1 "
      .. "(CVE-2019-14287) or sudoedit -s with a trailing backslash (Baron Samedit, "
      .. "CVE-2021-3156)",
  events = { "process.exec" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1068", "mitre:T1548.003" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    local name = basename(e.filename)
    if name ~= "sudo" and name ~= "sudoedit" then return false end
    local argv = e.argv
    if argv == nil then return false end
    local shell_mode = false
    for i = 2, #argv do
      local a = argv[i]
      if a:find("#%-1$") or a:find("#4294967295$") then return true end
      if a == "-s" or a == "-i" or a == "--shell" or a:find("^%-%a*s%a*$") then
        shell_mode = true
      end
      if shell_mode and (name == "sudoedit" or argv[1] == "sudoedit") and a:find("\\$") then
        return true
      end
    end
    return false
  end,
  output = "sudo exploit arguments: ${argv}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-u#-1", "/bin/bash" } }, expect = true },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-u", "#4294967295", "id" } }, expect = true },
    { event = { type = "process.exec", comm = "sudoedit", filename = "/usr/bin/sudoedit",
                argv = { "sudoedit", "-s", "AAAA\\" } }, expect = true },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-u", "#1001", "id" } }, expect = false },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-s" } }, expect = false },
  },
}

local SUDO_TS = { "/run/sudo/ts/", "/var/run/sudo/ts/", "/var/lib/sudo/ts/", "/var/db/sudo/ts/",
                  "/var/lib/sudo/lectured/" }
local SUDO_TS_GLOBS = {}
for i, dir in ipairs(SUDO_TS) do SUDO_TS_GLOBS[i] = dir .. "*" end

rule {
  name = "sudo_timestamp_tampered",
  desc = "A sudo timestamp (the record that a password was given recently) was written by "
      .. "a program other than sudo: sudo then asks nobody for a password",
  events = { "file.open", "file.rename", "file.link", "file.symlink", "file.chmod",
             "file.chown" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1548.003" },
  match = { set = { privilege_path = true } }, -- set by the shared check below
  when = function(e)
    if e.ret < 0 then return false end
    local t, p = e.type, nil
    if t == "file.open" then
      if (e.flags & 3) == 0 and (e.flags & O_CREAT) == 0 then return false end
      p = e.path
    elseif t == "file.rename" or t == "file.link" then p = e.newpath
    elseif t == "file.symlink" then p = e.linkpath
    else p = e.path end
    if not startswith_any(p, SUDO_TS) then return false end
    local c = e.comm
    return c ~= "sudo" and c ~= "sudoedit"
  end,
  output = "sudo timestamp ${path|newpath|linkpath} written (${type}) by " .. WHO,
  tests = {
    { event = { type = "file.open", comm = "python3", path = "/run/sudo/ts/ann", flags = 577 },
      expect = true },
    { event = { type = "file.chown", comm = "chown", path = "/var/run/sudo/ts/ann",
                owner_uid = 1000 }, expect = true },
    { event = { type = "file.open", comm = "sudo", path = "/run/sudo/ts/ann", flags = 66 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/run/sudo/ts/ann", flags = 0 },
      expect = false },
  },
}

local SHELLS = tapio.set { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh",
                           "fish", "busybox" }
-- Programs sudoers often allow that can start a shell (GTFOBins' "sudo" list).
local ESCAPES = tapio.set {
  "vi", "vim", "vim.basic", "vim.tiny", "nvim", "view", "rvim", "ed", "nano", "pico", "emacs",
  "less", "more", "most", "man", "pager", "find", "awk", "gawk", "mawk", "nawk", "perl", "python",
  "python2", "python3", "ruby", "lua", "lua5.4", "php", "node", "irb", "tclsh", "wish", "expect",
  "env", "ftp", "sftp", "gdb", "strace", "ltrace", "tar", "zip", "git", "ssh", "scp", "rsync",
  "script", "socat", "nmap", "tcpdump", "make", "apt", "apt-get", "dpkg", "pip", "pip3", "flock",
  "nice", "ionice", "taskset", "time", "timeout", "watch", "xargs", "busybox", "screen", "tmux",
  "journalctl", "systemctl", "mysql", "psql", "sqlite3", "docker", "crontab", "openssl",
  "tee", "dd", "cp", "mv", "zsh", "run-parts", "start-stop-daemon", "service", "sed",
}

rule {
  name = "shell_escape_under_sudo",
  desc = "A program run with sudo (an editor, pager, interpreter or tool that sudoers "
      .. "allows) started a root shell: the GTFOBins way out of a limited sudo rule",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1548.003", "mitre:T1059.004" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    if e.ret ~= 0 or e.uid ~= 0 or not SHELLS[basename(e.filename)] then return false end
    local par = e.parent
    if not (par and par.comm and ESCAPES[par.comm]) then return false end
    -- sudo is the parent's parent (or sudo's session helper right above it)
    local anc = e.ancestors
    if anc == nil then return false end
    for i = 1, math.min(#anc, 2) do
      local c = anc[i].comm
      if c == "sudo" or c == "doas" or c == "pkexec" then return true end
    end
    return false
  end,
  output = "root shell ${filename} started by ${parent.comm|'?'} run with sudo: ${cmdline}; "
        .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "sh", uid = 0, filename = "/bin/sh",
                argv = { "sh", "-c", "/bin/bash" }, parent = { comm = "vim" },
                ancestors = { { comm = "sudo" }, { comm = "bash" } } }, expect = true },
    { event = { type = "process.exec", comm = "bash", uid = 0, filename = "/usr/bin/bash",
                parent = { comm = "find" }, ancestors = { { comm = "sudo" } } }, expect = true },
    { event = { type = "process.exec", comm = "sh", uid = 0, filename = "/bin/sh",
                parent = { comm = "make" }, ancestors = { { comm = "bash" }, { comm = "sshd" } } },
      expect = false },
    { event = { type = "process.exec", comm = "sh", uid = 0, filename = "/bin/sh",
                parent = { comm = "sudo" }, ancestors = { { comm = "bash" } } }, expect = false },
    { event = { type = "process.exec", comm = "sh", uid = 1000, filename = "/bin/sh",
                parent = { comm = "vim" }, ancestors = { { comm = "sudo" } } }, expect = false },
  },
}

---------------------------------------------------------------- capabilities

local CAP = { setgid = 6, setuid = 7, net_admin = 12, sys_module = 16,
              sys_rawio = 17, sys_ptrace = 19, sys_admin = 21, perfmon = 38, bpf = 39,
              dac_read_search = 2 }
local DANGEROUS = 0
for _, bit in pairs(CAP) do DANGEROUS = DANGEROUS | (1 << bit) end
-- A root process that changed its uid with PR_SET_KEEPCAPS (setpriv,
-- capsh, daemons dropping privileges) still holds root's whole permitted
-- set (41 capabilities on 6.x, fewer where the bounding set lacks some)
-- when it raises some back into its effective set: a privilege drop, not
-- a gain.
local function root_set(caps)
  local n = 0
  while caps ~= 0 do
    caps = caps & (caps - 1)
    n = n + 1
  end
  return n >= 32
end

rule {
  name = "dangerous_capability_gained",
  desc = "A process not running as root raised a capability that amounts to root "
      .. "(sys_admin, sys_module, sys_ptrace, bpf, setuid...) into its effective set, "
      .. "without holding every capability (as a root process dropping its uid does)",
  events = { "security.capset" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1548", "mitre:T1068" },
  when = function(e)
    local gained = e.effective & ~e.old_effective
    return e.ret == 0 and e.uid ~= 0 and (gained & DANGEROUS) ~= 0
        and not root_set(e.permitted)
  end,
  output = "${comm} raised its effective capabilities to ${effective_str}; " .. WHO,
  tests = {
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 21 }, expect = true },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 16, permitted = 1 << 16 }, expect = true },
    { event = { type = "security.capset", comm = "ping", uid = 1000, old_effective = 0,
                effective = 1 << 13, permitted = 1 << 13 }, expect = false },
    { event = { type = "security.capset", comm = "setpriv", uid = 1000, old_effective = 0,
                effective = 0x1fffeffffff, permitted = 0x1fffeffffff }, expect = false },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 1 << 21,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "runc", uid = 0, old_effective = 0,
                effective = 1 << 21 }, expect = false },
    { event = { type = "security.capset", comm = "x", uid = 1000, old_effective = 0,
                effective = 1 << 10 }, expect = false },
  },
}

rule {
  name = "exec_without_arguments",
  desc = "A program was executed with an empty argument list (argc 0): no shell or "
      .. "program does that; set-uid exploits do (pkexec's PwnKit, CVE-2021-4034)",
  events = { "process.exec" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1068" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    if e.ret ~= 0 then return false end
    local argv = e.argv
    -- kernels since 5.18 put one empty string in an empty argv
    return argv ~= nil and (#argv == 0 or (#argv == 1 and argv[1] == ""))
  end,
  output = "${filename} executed with no arguments (argc 0); " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "pkexec", filename = "/usr/bin/pkexec",
                argv = {} }, expect = true },
    { event = { type = "process.exec", comm = "pkexec", filename = "/usr/bin/pkexec",
                argv = { "" } }, expect = true },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls",
                argv = { "ls" } }, expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/usr/bin/x", argv = {},
                ret = -2 }, expect = false },
  },
}

---------------------------------------------------------------- namespaces

-- Programs that build sandboxes or rootless containers with user namespaces.
local SANDBOXES = tapio.set { "chrome", "chromium", "firefox", "firefox-esr", "flatpak", "bwrap",
                              "podman", "buildah", "rootlesskit", "newuidmap",
                              "slirp4netns", "conmon", "crun", "runc" }

rule {
  name = "user_namespace_by_unprivileged",
  desc = "A process not running as root created a user namespace, where it is root: "
      .. "the first step of many kernel exploits",
  events = { "container.unshare" },
  severity = "notice",
  importance = 0.55,
  tags = { "mitre:T1068", "container" },
  when = function(e)
    -- ret: 0 for unshare, the child's pid for clone/clone3, -errno on failure
    return e.ret >= 0 and e.uid ~= 0 and (e.flags & CLONE_NEWUSER) ~= 0
        and not SANDBOXES[e.comm]
  end,
  output = "user namespace created (${flags_str}) by " .. WHO,
  tests = {
    { event = { type = "container.unshare", comm = "exploit", uid = 1000,
                flags = 0x10000000 | 0x20000 }, expect = true },
    { event = { type = "container.unshare", comm = "exploit", uid = 1000, syscall = 46,
                ret = 4242, flags = 0x10000000 }, expect = true },
    { event = { type = "container.unshare", comm = "exploit", uid = 1000, ret = -1,
                flags = 0x10000000 }, expect = false },
    { event = { type = "container.unshare", comm = "podman", uid = 1000, flags = 0x10000000 },
      expect = false },
    { event = { type = "container.unshare", comm = "x", uid = 0, flags = 0x10000000 },
      expect = false },
    { event = { type = "container.unshare", comm = "x", uid = 1000, flags = 0x20000 },
      expect = false },
  },
}

---------------------------------------------------------------- accounts

local GROUP_TOOLS = tapio.set { "usermod", "useradd", "gpasswd", "adduser", "addgroup" }
local PRIVILEGED_GROUPS = tapio.set { "0", "root", "sudo", "wheel", "admin", "adm", "docker", "lxd",
                                      "disk", "shadow", "kvm", "libvirt", "systemd-journal" }

local function account_args(argv)
  local uid0, nonunique, groups = false, false, {}
  if argv == nil then return uid0, nonunique, groups end
  local i = 2
  while i <= #argv do
    local a = argv[i]
    local v = argv[i + 1]
    if a == "-u" or a == "--uid" then
      if v == "0" then uid0 = true end
      i = i + 1
    elseif a:find("^%-%-uid=") then
      uid0 = uid0 or a == "--uid=0"
    elseif a == "-o" or a == "--non-unique" then
      nonunique = true
    elseif a == "-G" or a == "-g" or a == "--groups" or a == "--gid" then
      if v then
        for g in v:gmatch("[^,]+") do groups[#groups + 1] = g end
      end
      i = i + 1
    elseif a:find("^%-%a*G%a*$") and v then
      -- usermod -aG sudo ann
      for g in v:gmatch("[^,]+") do groups[#groups + 1] = g end
      i = i + 1
    end
    i = i + 1
  end
  return uid0, nonunique, groups
end

rule {
  name = "root_account_created",
  desc = "An account with user id 0 (a second root) was created or an account's uid "
      .. "changed to 0 (useradd/usermod -o -u 0)",
  events = { "process.exec" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1136.001", "mitre:T1078.003" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    local name = basename(e.filename)
    if e.ret ~= 0 or (name ~= "useradd" and name ~= "usermod" and name ~= "adduser"
                      and name ~= "luseradd" and name ~= "lusermod") then
      return false
    end
    local uid0 = account_args(e.argv)
    return uid0
  end,
  output = "uid 0 account: ${cmdline}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "useradd", filename = "/usr/sbin/useradd",
                argv = { "useradd", "-o", "-u", "0", "-g", "0", "toor" } }, expect = true },
    { event = { type = "process.exec", comm = "usermod", filename = "/usr/sbin/usermod",
                argv = { "usermod", "--uid=0", "--non-unique", "ann" } }, expect = true },
    { event = { type = "process.exec", comm = "useradd", filename = "/usr/sbin/useradd",
                argv = { "useradd", "-m", "ann" } }, expect = false },
  },
}

rule {
  name = "user_added_to_privileged_group",
  desc = "A user was put into a group that amounts to root (sudo, wheel, admin, docker, "
      .. "lxd, disk, shadow...) with usermod, gpasswd, adduser or useradd",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1098" },
  match = { set = { privilege_exec = true } }, -- set by the shared check below
  when = function(e)
    local name = basename(e.filename)
    if e.ret ~= 0 or not GROUP_TOOLS[name] or installing(e) then return false end
    local argv = e.argv
    if argv == nil then return false end
    if name == "usermod" or name == "useradd" then
      local _, _, groups = account_args(argv)
      for i = 1, #groups do
        if PRIVILEGED_GROUPS[groups[i]] then return true end
      end
    elseif name == "gpasswd" then
      -- gpasswd -a USER GROUP, gpasswd -M USERS GROUP
      for i = 2, #argv - 1 do
        local a = argv[i]
        if a == "-a" or a == "--add" or a == "-M" or a == "--members" then
          return PRIVILEGED_GROUPS[argv[#argv]] ~= nil
        end
      end
    elseif (name == "adduser" or name == "addgroup") and #argv == 3
        and argv[2]:sub(1, 1) ~= "-" then
      -- adduser USER GROUP
      return PRIVILEGED_GROUPS[argv[3]] ~= nil
    end
    return false
  end,
  output = "user added to a privileged group: ${cmdline}; " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "usermod", filename = "/usr/sbin/usermod",
                argv = { "usermod", "-aG", "sudo", "ann" } }, expect = true },
    { event = { type = "process.exec", comm = "gpasswd", filename = "/usr/bin/gpasswd",
                argv = { "gpasswd", "-a", "ann", "docker" } }, expect = true },
    { event = { type = "process.exec", comm = "gpasswd", filename = "/usr/bin/gpasswd",
                argv = { "gpasswd", "-M", "ann,bob", "wheel" } }, expect = true },
    { event = { type = "process.exec", comm = "gpasswd", filename = "/usr/bin/gpasswd",
                argv = { "gpasswd", "-d", "ann", "sudo" } }, expect = false },
    { event = { type = "process.exec", comm = "usermod", filename = "/usr/sbin/usermod",
                argv = { "usermod", "-a", "-G", "adm,users", "ann" } }, expect = true },
    { event = { type = "process.exec", comm = "adduser", filename = "/usr/sbin/adduser",
                argv = { "adduser", "ann", "sudo" } }, expect = true },
    { event = { type = "process.exec", comm = "useradd", filename = "/usr/sbin/useradd",
                argv = { "useradd", "-G", "users,wheel", "ann" } }, expect = true },
    { event = { type = "process.exec", comm = "usermod", filename = "/usr/sbin/usermod",
                argv = { "usermod", "-aG", "users", "ann" } }, expect = false },
  },
}

---------------------------------------------------------------- the shared check

-- Once per file event, for the file rules above: whether it gives a file a
-- set-uid, set-gid or world-writable mode, or touches a sudo timestamp (set
-- as e.privilege_path; the rules match on it in C). The match is that test
-- in C, per type: plain reads (most opens), renames and links elsewhere
-- never call it.
enrich({ "file.open", "file.chmod", "file.rename", "file.link", "file.symlink", "file.chown" },
       { match = { ["file.open"] = { flags = { any = "O_WRONLY|O_RDWR|O_CREAT" },
                                     one_of = { { flags = { any = "O_CREAT" },
                                                  mode = { any = S_ISUID | S_ISGID } },
                                                { path = SUDO_TS_GLOBS } } },
                   ["file.chmod"] = { one_of = { { mode = { any = S_ISUID | S_ISGID | S_IWOTH } },
                                                 { path = SUDO_TS_GLOBS } } },
                   ["file.rename"] = { newpath = SUDO_TS_GLOBS },
                   ["file.link"] = { newpath = SUDO_TS_GLOBS },
                   ["file.symlink"] = { linkpath = SUDO_TS_GLOBS },
                   ["file.chown"] = { path = SUDO_TS_GLOBS } } },
       function(e)
  if e.ret < 0 then return end
  local t = e.type
  if t == "file.open" then
    local f = e.flags
    if (f & 3) == 0 and (f & O_CREAT) == 0 then return end -- a plain read
    local p = e.path
    if ((f & O_CREAT) ~= 0 and (e.mode & (S_ISUID | S_ISGID)) ~= 0) or startswith_any(p, SUDO_TS) then
      e:set("privilege_path", p)
    end
    return
  end
  local p
  if t == "file.rename" or t == "file.link" then p = e.newpath
  elseif t == "file.symlink" then p = e.linkpath
  else p = e.path end
  if startswith_any(p, SUDO_TS)
      or (t == "file.chmod" and (e.mode & (S_ISUID | S_ISGID | S_IWOTH)) ~= 0) then
    e:set("privilege_path", p)
  end
end)

-- Once per exec, for the exec rules above: whether it is one they look at
-- (set as e.privilege_exec, the program's name): a tool that changes
-- privileges, an account tool, a shell run as root, a program
-- root runs from a directory users can write, an exec with no arguments.
local EXEC_NAMES = tapio.set { "useradd", "usermod", "adduser", "addgroup", "gpasswd",
                               "luseradd", "lusermod" }
local WRITABLE_GLOBS = {}
for i, dir in ipairs(WRITABLE_DIRS) do WRITABLE_GLOBS[i] = dir .. "*" end
-- (argc 0: no argv, or the one empty string kernels put there). The match
-- is the whole test: the engine sets the key in C, with no Lua call. The
-- cheaper alternatives first, the tools' names as one set.
local TOOL_NAMES = tapio.union(ROOT_TOOLS, EXEC_NAMES)
enrich({ "process.exec" }, { match = { ret = 0, one_of = {
         { argv = false }, { filename_base = TOOL_NAMES },
         { uid = 0, filename_base = SHELLS }, { uid = 0, filename = WRITABLE_GLOBS },
         { cmdline = "" } } },
       set = { privilege_exec = "filename_base" } })

-- ------------------------------------------------------------ dynamic linker into privilege

-- The first library variable an exec got (LD_PRELOAD, LD_AUDIT,
-- LD_LIBRARY_PATH), unless it only names a library preloaded by design.
local function linker_variable(e)
  local env = e.env
  if env == nil then return nil end
  local v = env.LD_PRELOAD
  if v ~= nil and v ~= "" and not preload_expected(v) then return "LD_PRELOAD" end
  if env.LD_AUDIT ~= nil and env.LD_AUDIT ~= "" then return "LD_AUDIT" end
  if env.LD_LIBRARY_PATH ~= nil and env.LD_LIBRARY_PATH ~= "" then return "LD_LIBRARY_PATH" end
  return nil
end

rule {
  name = "library_preload_into_privileged_program",
  desc = "LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH was handed to a set-uid program by a user "
      .. "(sudo, su, passwd, mount...), or reached a root process through sudo, su, pkexec or "
      .. "doas (env_keep, sudo VAR=value, su without a login): the dynamic linker running a "
      .. "user's code as root, or an attempt at it",
  events = { "process.exec" },
  match = { ret = 0, ["env.LD_PRELOAD|env.LD_AUDIT|env.LD_LIBRARY_PATH"] = true },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1574.006", "mitre:T1548.001", "mitre:T1548.003" },
  when = function(e)
    if linker_variable(e) == nil then return false end
    if e.uid ~= 0 then return SETUID_PROGRAMS[basename(e.filename)] ~= nil end
    local par = e.parent
    return par ~= nil and USER_SWITCHERS[par.comm] ~= nil
        and USER_SWITCHERS[basename(e.filename)] == nil
  end,
  output = "${filename} started with LD_PRELOAD=${env.LD_PRELOAD} LD_AUDIT=${env.LD_AUDIT} "
        .. "LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}: ${argv}; by " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "passwd", uid = 1000, filename = "/usr/bin/passwd",
                argv = { "passwd", "-S" }, env = { LD_PRELOAD = "/home/a/x.so" } }, expect = true,
      output = "/usr/bin/passwd started with LD_PRELOAD=/home/a/x.so LD_AUDIT=<NA> "
            .. "LD_LIBRARY_PATH=<NA>: passwd -S; by passwd (pid 1000, uid 1000, exe ?, parent "
            .. "?[1], container host, pod -/-)" },
    { event = { type = "process.exec", comm = "sudo", uid = 1000, filename = "/usr/bin/sudo",
                argv = { "sudo", "-n", "true" }, env = { LD_LIBRARY_PATH = "/home/a/lib" } },
      expect = true },
    { event = { type = "process.exec", comm = "find", uid = 0, filename = "/usr/bin/find",
                argv = { "find" }, env = { LD_PRELOAD = "/tmp/x.so" },
                parent = { comm = "sudo" } }, expect = true },
    { event = { type = "process.exec", comm = "id", uid = 1000, filename = "/usr/bin/id",
                argv = { "id" }, env = { LD_PRELOAD = "/home/a/x.so" } }, expect = false },
    { event = { type = "process.exec", comm = "passwd", uid = 1000, filename = "/usr/bin/passwd",
                argv = { "passwd" } }, expect = false },
    { event = { type = "process.exec", comm = "dpkg", uid = 0, filename = "/usr/bin/dpkg",
                argv = { "dpkg" }, parent = { comm = "sudo" },
                env = { LD_PRELOAD = "/usr/lib/x86_64-linux-gnu/libeatmydata.so" } },
      expect = false },
    { event = { type = "process.exec", comm = "make", uid = 0, filename = "/usr/bin/make",
                argv = { "make" }, parent = { comm = "bash" },
                env = { LD_LIBRARY_PATH = "/opt/x/lib" } }, expect = false },
  },
}

-- A GLIBC_TUNABLES value the way the loader exploit (CVE-2023-4911, "Looney
-- Tunables") writes it: a tunable whose value holds another assignment
-- ("glibc.malloc.mxfast=glibc.malloc.mxfast=AAAA..."), or a value far longer
-- than any tuning needs (the kernel keeps 256 bytes of a value).
local TUNABLES_LONG = 200

local function tunables_malformed(v)
  if v == nil or v == "" then return false end
  if #v >= TUNABLES_LONG then return true end
  for item in v:gmatch("[^:]+") do
    local value = item:match("^[^=]*=(.*)$")
    if value ~= nil and value:find("=", 1, true) then return true end
  end
  return false
end

rule {
  name = "glibc_tunables_exploit_attempt",
  desc = "A user started a set-uid program with a malformed or oversized GLIBC_TUNABLES "
      .. "(a tunable whose value holds another assignment, or hundreds of bytes): the "
      .. "dynamic loader exploit CVE-2023-4911 (Looney Tunables) that turns any set-uid "
      .. "program into a root shell on unpatched glibc",
  events = { "process.exec" },
  match = { ret = 0, filename_base = SETUID_PROGRAMS, ["env.GLIBC_TUNABLES"] = true },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1068", "mitre:T1574.006", "mitre:T1548.001", "cve:CVE-2023-4911" },
  when = function(e)
    local env = e.env
    return env ~= nil and e.uid ~= 0 and SETUID_PROGRAMS[basename(e.filename)] ~= nil
        and tunables_malformed(env.GLIBC_TUNABLES)
  end,
  output = "${filename} started with GLIBC_TUNABLES=${env.GLIBC_TUNABLES}: ${argv}; by " .. WHO,
  tests = {
    { event = { type = "process.exec", comm = "su", uid = 1000, filename = "/usr/bin/su",
                argv = { "su", "--help" },
                env = { GLIBC_TUNABLES = "glibc.malloc.mxfast=glibc.malloc.mxfast=AAAA" } },
      expect = true,
      output = "/usr/bin/su started with GLIBC_TUNABLES=glibc.malloc.mxfast=glibc.malloc.mxfast="
            .. "AAAA: su --help; by su (pid 1000, uid 1000, exe ?, parent ?[1], container host, "
            .. "pod -/-)" },
    { event = { type = "process.exec", comm = "sudo", uid = 1000, filename = "/usr/bin/sudo",
                argv = { "sudo", "-n", "true" },
                env = { GLIBC_TUNABLES = "glibc.malloc.check=" .. string.rep("A", 240) } },
      expect = true },
    { event = { type = "process.exec", comm = "su", uid = 1000, filename = "/usr/bin/su",
                argv = { "su" }, env = { GLIBC_TUNABLES = "glibc.malloc.arena_max=2" } },
      expect = false },
    { event = { type = "process.exec", comm = "java", uid = 1000, filename = "/usr/bin/java",
                argv = { "java" },
                env = { GLIBC_TUNABLES = "glibc.malloc.mxfast=glibc.malloc.mxfast=A" } },
      expect = false },
    { event = { type = "process.exec", comm = "su", uid = 0, filename = "/usr/bin/su",
                argv = { "su" }, env = { GLIBC_TUNABLES = "a=b=c" } }, expect = false },
  },
}
