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
  match = { ret = 0, filename_base = { "find", "getcap", "sudo" } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1083", "mitre:T1548.001", "mitre:T1069" },
  when = function(e)
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
local LOOKER_NAMES = {}
for name in pairs(LOOKERS) do LOOKER_NAMES[#LOOKER_NAMES + 1] = name end
for name in pairs(SECURITY_STATUS) do LOOKER_NAMES[#LOOKER_NAMES + 1] = name end

rule {
  name = "security_software_discovery",
  desc = "A search for the security and monitoring tools on this host: ps, pgrep, grep, "
      .. "systemctl, dpkg or ls looking for falco, auditd, osquery, EDR agents; or the "
      .. "status of SELinux, AppArmor and audit rules",
  events = { "process.exec" },
  match = { ret = 0, filename_base = LOOKER_NAMES },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1518.001" },
  when = function(e)
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
  match = { ret = 0, container = true },
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

-- ------------------------------------------------------------ bursts
--
-- Each discovery command, by the kind of thing it tells. An intruder's
-- first minute is a burst of them from one shell; an admin's is a few.
-- Counted per parent process (the shell or script that runs them) and, in
-- a container, per container.
local DISCOVERY = {
  -- accounts, users and groups (T1087.001, T1033, T1069.001)
  whoami = "account", id = "account", who = "account", w = "account", users = "account",
  last = "account", lastb = "account", lastlog = "account", groups = "account",
  getent = "account", finger = "account", pinky = "account", lslogins = "account",
  -- processes (T1057)
  ps = "process", pstree = "process", top = "process", htop = "process", pgrep = "process",
  pidof = "process", lsof = "process",
  -- network configuration and connections (T1016, T1049, T1018)
  ifconfig = "network", ip = "network", route = "network", arp = "network",
  netstat = "network", ss = "network", nmcli = "network", iwconfig = "network",
  iptables = "network", nft = "network", traceroute = "network", ping = "network",
  dig = "network", nslookup = "network", host = "network", resolvectl = "network",
  -- the system (T1082, T1124, T1614)
  uname = "system", hostname = "system", hostnamectl = "system", lsb_release = "system",
  lscpu = "system", lsblk = "system", lspci = "system", lsusb = "system", lsmod = "system",
  dmidecode = "system", dmesg = "system", df = "system", free = "system", uptime = "system",
  mount = "system", findmnt = "system", env = "system", printenv = "system",
  sysctl = "system", timedatectl = "system", ["systemd-detect-virt"] = "system",
  ["virt-what"] = "system", crontab = "system", systemctl = "system",
  -- files and permissions (T1083)
  find = "file", locate = "file", getcap = "file", tree = "file",
}
-- Files whose contents answer the same questions, read with cat, head...
local DISCOVERY_FILES = {
  ["/etc/passwd"] = "account", ["/etc/group"] = "account", ["/etc/shadow"] = "account",
  ["/etc/sudoers"] = "account", ["/etc/os-release"] = "system", ["/etc/issue"] = "system",
  ["/proc/version"] = "system", ["/etc/lsb-release"] = "system", ["/proc/cpuinfo"] = "system",
  ["/etc/hosts"] = "network", ["/etc/resolv.conf"] = "network", ["/proc/net/tcp"] = "network",
  ["/proc/net/arp"] = "network", ["/proc/net/route"] = "network", ["/etc/crontab"] = "system",
  ["/etc/fstab"] = "system", ["/etc/exports"] = "file",
}
local READERS = tapio.set { "cat", "head", "tail", "less", "more", "grep", "egrep", "awk",
                            "cut", "sort", "strings", "tac", "nl" }

-- The kind of discovery this exec is, and what it is called ("cat
-- /etc/passwd" counts as its own command), or nil.
local function discovery_kind(e)
  if e.ret ~= 0 then return nil end
  local name = basename(e.filename)
  local kind = DISCOVERY[name]
  if kind then return kind, name end
  if not READERS[name] then return nil end
  local argv = e.argv
  for i = 2, #argv do
    local k = DISCOVERY_FILES[argv[i]]
    if k then return k, argv[i] end
  end
  return nil
end

-- Keys a burst is counted under: the process that runs the commands (the
-- parent, or above a wrapper such as timeout, nice or sudo), and the
-- container.
local function burst_keys(e)
  return tapio.process(session_pid(e)), e.container.id and ("ct:" .. e.container.id)
end

-- The command names of one kind (all kinds: nil), sorted, for a rule's
-- match: an exec of anything else (most execs) never reaches its `when`.
-- The readers are matched beside them (their kind is their file's).
local function discovery_names(kind)
  local t = {}
  for name, k in pairs(DISCOVERY) do
    if kind == nil or k == kind then t[#t + 1] = name end
  end
  table.sort(t)
  return t
end

local function discovery_match(kind)
  return { ret = 0, one_of = { { filename_base = discovery_names(kind) },
                               { filename_base = READERS } } }
end

-- One rule per kind: N distinct commands of the kind within a minute.
local function kind_burst(t)
  rule {
    name = t.name,
    desc = t.desc,
    events = { "process.exec" },
    match = discovery_match(t.kind),
    severity = "notice",
    importance = 0.6,
    tags = t.tags,
    state = { seen = tapio.distinct { window = "60s", max_values = 64 } },
    when = function(e, s)
      local kind, what = discovery_kind(e)
      if kind ~= t.kind then return false end
      local by_parent, by_container = burst_keys(e)
      local n, new = s.seen:add(by_parent, what)
      local hit = new and n == t.threshold
      if by_container then
        local m, cnew = s.seen:add(by_container, what)
        hit = hit or (cnew and m == t.threshold)
      end
      return hit
    end,
    output = t.what .. " discovery: " .. t.threshold .. " different commands within a minute "
          .. "from ${parent.comm} (pid ${ppid}, exe ${parent.exe}), the last ${argv}; uid "
          .. "${uid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}",
    tests = t.tests,
  }
end

local function exec(name, args, extra)
  local ev = { type = "process.exec", comm = name, filename = "/usr/bin/" .. name,
               argv = { name, table.unpack(args or {}) }, ppid = 4242 }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

kind_burst {
  name = "account_discovery_burst", kind = "account", threshold = 3, what = "account",
  desc = "Three different commands that list users, groups or logins (id, whoami, w, last, "
      .. "getent, cat /etc/passwd...) from one shell or container within a minute",
  tags = { "mitre:T1087.001", "mitre:T1033", "mitre:T1069.001" },
  tests = {
    { events = { exec("id"), exec("whoami"), exec("cat", { "/etc/passwd" }) }, expect = 3 },
    { events = { exec("id"), exec("id"), exec("id") }, expect = false },
    { events = { exec("id"), exec("whoami"), exec("w", {}, { at = "90s" }) }, expect = false },
  },
}

kind_burst {
  name = "process_discovery_burst", kind = "process", threshold = 3, what = "process",
  desc = "Three different commands that list processes (ps, pstree, pgrep, lsof, top) from "
      .. "one shell or container within a minute",
  tags = { "mitre:T1057" },
  tests = {
    { events = { exec("ps", { "aux" }), exec("pstree"), exec("lsof", { "-i" }) }, expect = 3 },
    { events = { exec("ps"), exec("ps", { "aux" }) }, expect = false },
  },
}

kind_burst {
  name = "network_discovery_burst", kind = "network", threshold = 3, what = "network",
  desc = "Three different commands that map the network (ip, ifconfig, ss, netstat, arp, "
      .. "route, /etc/hosts, resolv.conf) from one shell or container within a minute",
  tags = { "mitre:T1016", "mitre:T1049", "mitre:T1018" },
  tests = {
    { events = { exec("ip", { "a" }), exec("ss", { "-tulpn" }), exec("arp", { "-a" }) },
      expect = 3 },
    { events = { exec("ip", { "a" }), exec("ip", { "r" }) }, expect = false },
  },
}

kind_burst {
  name = "system_discovery_burst", kind = "system", threshold = 4, what = "system",
  desc = "Four different commands that describe the system (uname, hostname, os-release, "
      .. "lscpu, df, mount, env, dmesg...) from one shell or container within a minute",
  tags = { "mitre:T1082" },
  tests = {
    { events = { exec("uname", { "-a" }), exec("cat", { "/etc/os-release" }), exec("lscpu"),
                 exec("mount") }, expect = 4 },
    { events = { exec("uname"), exec("df") }, expect = false },
  },
}

-- What intruders look at and admins checking a server's health seldom do:
-- who they are, which accounts exist, which OS and kernel to pick an
-- exploit for, what the environment and the neighbours hold.
local TELLS = tapio.set { "whoami", "w", "last", "lastlog", "lastb", "finger", "env", "printenv",
                          "arp", "lsmod", "getcap", "crontab", "/etc/passwd", "/etc/shadow",
                          "/etc/group", "/etc/sudoers", "/etc/os-release", "/etc/issue",
                          "/proc/version", "/etc/lsb-release", "/etc/hosts", "/etc/crontab",
                          "/proc/net/arp", "/etc/exports", "lsb_release" }

-- Distinct kinds and distinct commands per parent or container.
rule {
  name = "discovery_burst",
  desc = "Eight or more different discovery commands of at least three kinds (accounts, "
      .. "processes, network, system, files) from one shell or container within a minute, "
      .. "two of them what intruders ask first (whoami, /etc/passwd, os-release, "
      .. "/proc/version, env, last, arp...): someone, or an enumeration script (linpeas, "
      .. "LinEnum), surveying the host",
  events = { "process.exec" },
  match = discovery_match(nil),
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1087", "mitre:T1057", "mitre:T1016", "mitre:T1082", "mitre:T1083" },
  state = { commands = tapio.distinct { window = "60s", max_values = 64 },
            kinds = tapio.distinct { window = "60s", max_values = 8 },
            tells = tapio.distinct { window = "60s", max_values = 32 },
            fired = tapio.map { ttl = "60s" } },
  when = function(e, s)
    local kind, what = discovery_kind(e)
    if kind == nil then return false end
    local hit = false
    local by_parent, by_container = burst_keys(e)
    for _, key in ipairs({ by_parent, by_container }) do
      local n = s.commands:add(key, what)
      local k = s.kinds:add(key, kind)
      local t = TELLS[what] and s.tells:add(key, what) or s.tells:count(key)
      if n >= 8 and k >= 3 and t >= 2 and not s.fired:get(key) then
        s.fired:set(key, true)
        hit = true
      end
    end
    return hit
  end,
  output = "discovery burst: 8 different discovery commands of 3 or more kinds within a minute "
        .. "from ${parent.comm} (pid ${ppid}, exe ${parent.exe}), the last ${argv}; uid ${uid}, "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { events = { exec("id"), exec("whoami"), exec("uname", { "-a" }), exec("hostname"),
                 exec("ps", { "aux" }), exec("ip", { "a" }), exec("ss", { "-tln" }),
                 exec("cat", { "/etc/passwd" }), exec("w") }, expect = 8 },
    -- a health check: many commands, but none of the intruder's questions
    { events = { exec("ps", { "aux" }), exec("top", { "-bn1" }), exec("uptime"), exec("free"),
                 exec("df", { "-h" }), exec("lsblk"), exec("mount"), exec("ip", { "addr" }),
                 exec("ss", { "-tlnp" }), exec("id"), exec("who"), exec("uname", { "-a" }),
                 exec("hostname") }, expect = false },
    { events = { exec("df"), exec("free"), exec("uptime"), exec("uname"), exec("hostname"),
                 exec("mount"), exec("lsblk"), exec("lscpu"), exec("dmesg") }, expect = false },
  },
}

local function connect(port, extra)
  local ev = { type = "network.connect", comm = "nc", pid = 500, ppid = 400, family = 2,
               daddr = "10.0.0.9", dport = port, ret = -111 }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end
local scan, loop, many_hosts, health = {}, {}, {}, {}
for i = 1, 20 do
  scan[i] = connect(i)
  -- a shell loop: one subshell per port (bash /dev/tcp), same exe as its parent
  loop[i] = connect(1000 + i, { comm = "bash", pid = 500 + i, exe = "/usr/bin/bash",
                                parent = { comm = "bash", exe = "/usr/bin/bash" } })
  many_hosts[i] = connect(443, { comm = "curl", daddr = "10.0.0." .. i, ret = 0 })
  -- a test runner's children, each a program of its own talking to its own server
  health[i] = connect(30000 + i, { comm = "test_x", pid = 600 + i, exe = "/src/build/test_x",
                                   daddr = "127.0.0.1", ret = 0,
                                   parent = { comm = "ctest", exe = "/usr/bin/ctest" } })
end
-- Port probers that run once per port in a shell loop (`for p ...; do nc -z`).
local PROBERS = tapio.set { "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "socat",
                            "telnet", "hping3", "nping" }

rule {
  name = "port_scan",
  desc = "Twenty or more ports of one host tried within half a minute by one process, or by "
      .. "the processes of one loop (subshells, nc -z per port): a port scan (nc -z, bash "
      .. "/dev/tcp loops, python sockets, nmap -sT)",
  events = { "network.connect" },
  match = { family = { 2, 10 } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1046" },
  state = { ports = tapio.distinct { window = "30s", max_values = 256 },
            tried = tapio.map { ttl = "30s" } },
  -- a port the process tried within 30 s (most connects: a client to its
  -- server, again and again) is not new to s.ports: when would say false
  -- and keep nothing, so the engine does not call it
  skip_repeats = { map = "tried", fields = { "pid", "daddr", "dport" } },
  when = function(e, s)
    if e.dport == 0 or e.daddr == nil then
      return false
    end
    local n, new = s.ports:add(e.pid .. ">" .. e.daddr, e.dport)
    -- a port the process tried already: its loop's count has it too
    if not new then return false end
    local hit = n == 20
    local p = e.parent
    if p ~= nil and (PROBERS[e.comm] or (e.exe ~= nil and e.exe == p.exe)) then
      local m, lnew = s.ports:add(e.ppid .. ">>" .. e.daddr, e.dport)
      hit = hit or (lnew and m == 20)
    end
    return hit
  end,
  output = "port scan: ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}) tried the 20th port of ${daddr} within 30 s, ${dport}; container "
        .. "${container.id}, pod ${k8s.namespace}/${k8s.pod}; command: ${argv}",
  tests = {
    { events = scan, expect = 20 },
    { events = loop, expect = 20 },
    { events = many_hosts, expect = false },
    { events = health, expect = false },
  },
}
