-- Discovery (ATT&CK TA0007): what an intruder runs to learn where they
-- landed. One command alone is ordinary; the searches for privilege
-- escalation paths and for the defenders' tools are not.

local basename, startswith, contains = tapio.basename, tapio.startswith, tapio.contains

-- find predicates that look for set-id programs or places anyone can write.
local FIND_PRIV = { "-perm -4000", "-perm -u=s", "-perm /4000", "-perm +4000", "-perm -2000",
                    "-perm -g=s", "-perm /2000", "-perm -6000", "-perm /6000", "-perm -u+s",
                    "-writable", "-perm -o+w", "-perm -o=w", "-perm -0002", "-perm -002",
                    "-perm -2 ", "-perm /o+w", "-perm -o+x -perm -u=s", "-perm /u=s" }

rule {
  name = "privilege_escalation_paths_searched",
  desc = "A search for ways to become root: set-uid and set-gid programs (find -perm -4000), "
      .. "files and directories anyone can write (find -writable), file capabilities "
      .. "(getcap -r), what sudo allows (sudo -l)",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1083", "mitre:T1548.001", "mitre:T1069" },
  when = function(e)
    if e.ret ~= 0 then return false end
    local name, argv = basename(e.filename), e.argv
    if name == "find" then
      local c = e.cmdline .. " "
      for _, p in ipairs(FIND_PRIV) do
        if contains(c, p) then return true end
      end
      return false
    end
    if name == "getcap" then
      for i = 2, #argv do
        if argv[i] == "-r" then return true end
      end
      return false
    end
    if name == "sudo" then
      for i = 2, #argv do
        local a = argv[i]
        if a == "-l" or a == "--list" or a == "-ll" then return true end
        if not startswith(a, "-") then return false end
      end
    end
    return false
  end,
  output = "privilege escalation search: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "find", filename = "/usr/bin/find",
                argv = { "find", "/", "-perm", "-4000", "-type", "f" } }, expect = true },
    { event = { type = "process.exec", comm = "find", filename = "/usr/bin/find",
                argv = { "find", "/", "-writable", "-type", "d" } }, expect = true },
    { event = { type = "process.exec", comm = "getcap", filename = "/usr/sbin/getcap",
                argv = { "getcap", "-r", "/" } }, expect = true },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "-n", "-l" } }, expect = true },
    { event = { type = "process.exec", comm = "sudo", filename = "/usr/bin/sudo",
                argv = { "sudo", "ls", "-l" } }, expect = false },
    { event = { type = "process.exec", comm = "find", filename = "/usr/bin/find",
                argv = { "find", ".", "-name", "*.c" } }, expect = false },
  },
}

-- Names of security and monitoring tools an intruder looks for first.
local DEFENDERS = { "falco", "tapio", "auditd", "auditctl", "osquery", "wazuh", "ossec", "sysdig",
                    "tetragon", "tracee", "falcon", "crowdstrike", "sentinel", "cbagent",
                    "carbonblack", "clamav", "clamd", "aide", "tripwire", "rkhunter",
                    "chkrootkit", "snoopy", "suricata", "snort", "zeek", "elastic-agent",
                    "auditbeat", "qualys", "datadog", "selinux", "apparmor", "lynis" }
local LOOKERS = tapio.set { "ps", "pgrep", "pidof", "grep", "egrep", "systemctl", "service",
                            "ls", "find", "dpkg", "rpm", "lsmod", "which", "locate", "cat" }
local SECURITY_STATUS = tapio.set { "aa-status", "apparmor_status", "sestatus", "getenforce",
                                    "auditctl" }

rule {
  name = "security_software_discovery",
  desc = "A search for the security and monitoring tools on this host: ps, pgrep, grep, "
      .. "systemctl, dpkg or ls looking for falco, auditd, osquery, EDR agents; or the "
      .. "status of SELinux, AppArmor and audit rules",
  events = { "process.exec" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1518.001" },
  when = function(e)
    if e.ret ~= 0 then return false end
    local name = basename(e.filename)
    if SECURITY_STATUS[name] then
      return name ~= "auditctl" or contains(e.cmdline, " -l") or contains(e.cmdline, " -s")
    end
    if not LOOKERS[name] then return false end
    local argv = e.argv
    for i = 2, #argv do
      local a = argv[i]:lower()
      for _, d in ipairs(DEFENDERS) do
        if a:find(d, 1, true) then return true end
      end
    end
    return false
  end,
  output = "looking for defenders: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "grep", filename = "/bin/grep",
                argv = { "grep", "-iE", "falco|osquery|auditd" } }, expect = true },
    { event = { type = "process.exec", comm = "pgrep", filename = "/usr/bin/pgrep",
                argv = { "pgrep", "-l", "wazuh" } }, expect = true },
    { event = { type = "process.exec", comm = "sestatus", filename = "/usr/sbin/sestatus",
                argv = { "sestatus" } }, expect = true },
    { event = { type = "process.exec", comm = "grep", filename = "/bin/grep",
                argv = { "grep", "-r", "TODO", "src" } }, expect = false },
  },
}

-- What a process reads to learn it is in a container, and which.
local CONTAINER_TELLS = tapio.set { "/.dockerenv", "/run/.containerenv", "/proc/1/cgroup",
                                    "/proc/self/cgroup", "/proc/1/sched", "/proc/1/environ",
                                    "/proc/self/mountinfo", "/proc/1/mountinfo",
                                    "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
                                    "/run/secrets/kubernetes.io/serviceaccount/namespace" }
local TEXT_TOOLS = tapio.set { "cat", "head", "tail", "less", "more", "grep", "egrep", "awk",
                               "sed", "cut", "strings", "ls", "stat", "test", "file" }
local CONTAINER_PROBES = tapio.set { "capsh", "amicontained", "deepce", "cdk", "fdisk",
                                     "systemd-detect-virt", "virt-what", "botb" }

rule {
  name = "container_environment_discovery",
  desc = "A process in a container examined its surroundings the way escape tools do: "
      .. "/.dockerenv, /proc/1/cgroup, the mount table, its capabilities (capsh --print), "
      .. "the disks (fdisk -l), the service account's namespace",
  events = { "process.exec" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1613", "mitre:T1082", "container" },
  when = function(e)
    if e.ret ~= 0 or e.container.id == nil then return false end
    local name = basename(e.filename)
    if CONTAINER_PROBES[name] then return true end
    if not TEXT_TOOLS[name] then return false end
    local argv = e.argv
    for i = 2, #argv do
      if CONTAINER_TELLS[argv[i]] then return true end
    end
    return false
  end,
  output = "container surroundings examined: ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}) in container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}",
  tests = {
    { event = { type = "process.exec", comm = "cat", filename = "/bin/cat",
                argv = { "cat", "/proc/1/cgroup" }, container = { id = "abc" } }, expect = true },
    { event = { type = "process.exec", comm = "capsh", filename = "/sbin/capsh",
                argv = { "capsh", "--print" }, container = { id = "abc" } }, expect = true },
    { event = { type = "process.exec", comm = "cat", filename = "/bin/cat",
                argv = { "cat", "/proc/1/cgroup" } }, expect = false },
    { event = { type = "process.exec", comm = "cat", filename = "/bin/cat",
                argv = { "cat", "/etc/hosts" }, container = { id = "abc" } }, expect = false },
  },
}
