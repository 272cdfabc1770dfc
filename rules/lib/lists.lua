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
