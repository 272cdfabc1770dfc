-- Lists every rule file can use by name (SHELLS["bash"], #SHELLS,
-- tapio.startswith_any(path, TMP_DIRS)). Loaded before any rule file.
--
-- Tune them for your fleet without editing this file: in a file of your
-- own (/etc/tapio/rules.d/site.lua, or any -r file)
--   append("SHELLS", { "nu" })          -- add entries
--   list("SHELLS", { "sh", "bash" })    -- replace the whole list
-- Every rule sees the change. Process names are the kernel's comm: at most
-- 15 bytes ("unattended-upgr" is unattended-upgrades).

list("SHELLS", {
  "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "tcsh", "csh", "fish",
})

list("INTERPRETERS", {
  "python", "python2", "python3", "python3.9", "python3.10", "python3.11", "python3.12",
  "python3.13", "perl", "ruby", "node", "nodejs", "php", "lua", "lua5.1", "lua5.3",
  "lua5.4", "luajit", "tclsh", "wish", "Rscript", "pwsh", "deno", "bun",
})

-- The interpreters by the name's letters before any version ("python*"
-- for python3.11), for a match: as INTERPRETERS stands when this file
-- loads (append to both to add one).
list("INTERPRETER_PREFIXES", (function()
  local stems, seen = {}, {}
  for _, name in ipairs(INTERPRETERS) do
    local g = (name:match("^(%a+)") or name) .. "*"
    if not seen[g] then seen[g] = true; stems[#stems + 1] = g end
  end
  return stems
end)())

list("PACKAGE_MANAGERS", {
  "dpkg", "apt", "apt-get", "aptitude", "unattended-upgr", "dpkg-preconfigu",
  "dpkg-trigger", "rpm", "dnf", "yum", "microdnf", "zypper", "apk", "pacman", "snap",
  "snapd", "flatpak", "pip", "pip3", "npm", "yarn", "pnpm", "gem", "cargo", "conda",
})

list("DOWNLOADERS", { "curl", "wget", "aria2c", "fetch", "lwp-download", "tftp", "ftp" })

list("NETWORK_TOOLS", {
  "curl", "wget", "nc", "ncat", "netcat", "socat", "nmap", "ssh", "scp", "sftp", "rsync",
  "telnet", "ftp", "tftp",
})

list("PRIVILEGE_TOOLS", {
  "sudo", "su", "pkexec", "doas", "passwd", "chpasswd", "useradd", "userdel", "usermod",
  "groupadd", "visudo", "setcap", "chattr", "insmod", "modprobe", "rmmod",
})

list("CONTAINER_TOOLS", {
  "nsenter", "unshare", "capsh", "kubectl", "crictl", "docker", "runc", "ctr", "podman",
})

list("CONTAINER_RUNTIMES", {
  "containerd", "containerd-shim", "dockerd", "runc", "crun", "conmon", "crio", "podman",
  "kubelet",
})

list("DEBUGGERS", { "gdb", "lldb", "strace", "ltrace", "perf", "bpftrace" })

-- Commands an intruder runs first to learn where they are.
list("DISCOVERY_TOOLS", {
  "whoami", "id", "uname", "hostname", "hostnamectl", "ifconfig", "ip", "netstat", "ss",
  "ps", "w", "who", "last", "lsof", "arp", "route", "getent", "groups", "lscpu", "lsblk",
  "df", "mount", "env", "printenv", "crontab", "systemctl",
})

-- Directories (prefixes, with the trailing slash) anyone can write to.
list("TMP_DIRS", { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/" })

-- Where the system's programs live (prefixes).
list("SYSTEM_BIN_DIRS", {
  "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
  "/usr/libexec/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
})

-- Programs that turn encoded text back into bytes (base64, hex, rot13...).
list("DECODERS", { "base64", "base32", "basenc", "xxd", "openssl", "rev", "uudecode", "gunzip",
                   "zcat", "bunzip2", "bzcat", "unxz", "xzcat", "zstdcat", "tr" })

-- Security and monitoring agents: stopping or killing one blinds the
-- defenders.
list("SECURITY_AGENTS", {
  "auditd", "auditbeat", "falco", "tapio-collector", "osqueryd", "wazuh-agentd", "ossec-agentd",
  "sysdig", "tetragon", "tracee", "falcon-sensor", "falcond", "sentinelone", "cbagentd",
  "cbdaemon", "clamd", "freshclam", "aide", "rsyslogd", "syslog-ng", "systemd-journal",
  "filebeat", "fluent-bit", "td-agent", "elastic-agent", "datadog-agent", "snoopy", "sshguard",
  "fail2ban-server", "suricata", "snort", "zeek", "apparmor", "firewalld", "ufw",
})

-- Programs that only run the next one (their parent is who asked).
list("WRAPPERS", { "timeout", "nice", "ionice", "nohup", "env", "stdbuf", "setsid", "sudo",
                   "doas", "su", "runuser", "setpriv", "chrt", "taskset", "time", "xargs",
                   "flock", "unbuffer", "strace", "sshpass" })

-- Programs that put a network connection on another program's standard
-- input and output by design: inetd-style supervisors (systemd socket
-- activation with Accept=yes, inetd, xinetd, tcpserver). A connection on
-- the stdio of anything else is a reverse or bind shell.
list("STDIO_SOCKET_SUPERVISORS", { "systemd", "inetd", "xinetd", "tcpd", "tcpserver", "sshd",
                                   "sshd-session", "dropbear",
                                   "s6-tcpserver", "s6-tcpserver4", "s6-tcpserver6",
                                   "s6-tcpserver-ac", "ucspi-tcp" })

-- Programs that read or write other processes' memory as their job
-- (process_vm_readv/writev, /proc/PID/mem): debuggers, profilers, tracers,
-- checkpointing. Counted only as the system's copies (under /usr, /bin...).
list("MEMORY_TOOLS", { "gdb", "lldb", "lldb-server", "strace", "ltrace", "perf", "py-spy",
                       "rbspy", "pyrasite", "valgrind", "rr", "criu", "systemd-coredum",
                       "gcore", "eu-stack", "pstack", "bpftrace", "async-profiler", "jcmd",
                       "jmap", "jstack", "dotnet-dump", "delve", "dlv" })

-- Programs that use io_uring as their ordinary way to do I/O: storage
-- engines, benchmarks, emulators, runtimes built on it. Counted only as the
-- system's copies. io_uring operations pass no syscall hook, so a program
-- not listed here that sets up a ring is worth a look.
list("IO_URING_USERS", { "fio", "qemu-system-x86", "qemu-system-aarc", "qemu-kvm", "postgres",
                         "mysqld", "mariadbd", "scylla", "rocksdb", "ceph-osd", "spdk_tgt",
                         "nginx", "envoy", "tigerbeetle", "redpanda", "iouring-bench",
                         "liburing-test", "samba", "smbd", "ksmbd", "tapio-collector" })

-- Libraries preloaded by design (fakeroot in package builds, eatmydata,
-- valgrind, allocators, stdbuf): an LD_PRELOAD naming one of them (a
-- substring of the value) is not reported.
list("PRELOAD_EXPECTED", { "libfakeroot", "libeatmydata", "vgpreload_", "libjemalloc",
                           "libtcmalloc", "libmimalloc", "libSegFault", "libgtk3-nocsd",
                           "libstdbuf" })

-- Set-uid and set-gid programs a user runs to act as root (by name): the
-- dynamic linker must not take a user's libraries into them.
list("SETUID_PROGRAMS", { "sudo", "sudoedit", "su", "pkexec", "doas", "passwd", "chsh", "chfn",
                          "newgrp", "gpasswd", "mount", "umount", "fusermount", "fusermount3",
                          "ssh-keysign", "polkit-agent-he", "dbus-daemon-lau", "unix_chkpwd",
                          "chage", "expiry", "crontab", "at", "Xorg.wrap", "staprun", "pppd",
                          "ping", "traceroute6", "ntfs-3g", "mount.cifs", "mount.nfs" })

-- Programs that switch to another user (root) and run a command.
list("USER_SWITCHERS", { "sudo", "su", "pkexec", "doas", "runuser", "setpriv", "sudo-rs" })

-- Where a preloaded library (LD_PRELOAD, LD_AUDIT) or a library search
-- path counts as planted: places anyone can write to, and descriptors (a
-- memfd through /proc/self/fd). Prefixes.
list("PRELOAD_PLANTED_DIRS", { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/proc/",
                               "/dev/fd/", "/var/crash/", "/run/lock/" })
