-- Lateral movement (ATT&CK TA0008): remote logins scripted the way
-- attackers script them, and containers reaching for the control planes
-- and remote services of their neighbours.

local basename, startswith = tapio.basename, tapio.startswith

local SSH_CLIENT_NAMES = { "ssh", "scp", "sftp", "rsync", "autossh" }
local SSH_CLIENTS = tapio.set(SSH_CLIENT_NAMES)

rule {
  name = "ssh_host_key_checking_disabled",
  desc = "ssh, scp or sftp was told not to check or remember the remote host's key "
      .. "(StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null): a login to a host the "
      .. "account never visited, leaving no trace in known_hosts",
  events = { "process.exec" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1021.004", "mitre:T1070" },
  match = { ret = 0, filename_base = SSH_CLIENT_NAMES },
  when = function(e)
    if e.ret ~= 0 or not SSH_CLIENTS[basename(e.filename)] then return false end
    local c = e.cmdline:lower()
    return c:find("stricthostkeychecking[= ]+no", 1) ~= nil
        or c:find("stricthostkeychecking[= ]+off", 1) ~= nil
        or c:find("userknownhostsfile[= ]+/dev/null", 1) ~= nil
  end,
  output = "host key checks off: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-o", "StrictHostKeyChecking=no", "-o",
                         "UserKnownHostsFile=/dev/null", "root@10.0.0.7", "id" } }, expect = true },
    { event = { type = "process.exec", comm = "scp", filename = "/usr/bin/scp",
                argv = { "scp", "-oStrictHostKeyChecking=no", "x", "h:/tmp" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "host" } }, expect = false },
  },
}

-- Tools that log in to other machines, or try passwords on them.
local REMOTE_TOOLS = tapio.set { "ssh", "scp", "sftp", "sshpass", "telnet", "rsh", "rlogin",
                                 "smbclient", "rpcclient", "xfreerdp", "rdesktop", "evil-winrm",
                                 "psexec.py", "wmiexec.py", "smbexec.py", "crackmapexec", "nxc",
                                 "netexec", "hydra", "medusa", "ncrack", "patator", "kubectl",
                                 "mysql", "psql", "redis-cli", "mongo", "mongosh" }

rule {
  name = "remote_access_tool_in_container",
  desc = "A remote login or remote administration tool ran inside a container (ssh, scp, "
      .. "sshpass, telnet, smbclient, kubectl, database clients...): a foothold reaching "
      .. "for other machines",
  events = { "process.exec" },
  match = { ret = 0, container = true },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1021", "mitre:T1021.004", "container" },
  when = function(e)
    return e.ret == 0 and e.container.id ~= nil and REMOTE_TOOLS[basename(e.filename)] ~= nil
  end,
  output = "${filename} run in container ${container.id} (${container.runtime}), pod "
        .. "${k8s.namespace}/${k8s.pod}: ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid})",
  tests = {
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "10.0.0.7" }, container = { id = "abc" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "10.0.0.7" } }, expect = false },
  },
}

local PASSWORD_TOOL_NAMES = { "sshpass", "hydra", "medusa", "ncrack", "patator", "crackmapexec",
                              "nxc", "netexec" }
local PASSWORD_TOOLS = tapio.set(PASSWORD_TOOL_NAMES)
local LOGIN_TOOL_NAMES = { "smbclient", "rpcclient", table.unpack(PASSWORD_TOOL_NAMES) }

rule {
  name = "remote_login_with_scripted_password",
  desc = "A password was fed to a remote login by a tool (sshpass, hydra, medusa, ncrack, "
      .. "crackmapexec...) or put on an smbclient/rpcclient command line: logins scripted "
      .. "with stolen or guessed passwords",
  events = { "process.exec" },
  match = { ret = 0, filename_base = LOGIN_TOOL_NAMES },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1021.004", "mitre:T1110", "mitre:T1078" },
  when = function(e)
    local name = basename(e.filename)
    if PASSWORD_TOOLS[name] then return true end
    if name == "smbclient" or name == "rpcclient" then
      for i = 2, #e.argv do
        local a, nxt = e.argv[i], e.argv[i + 1]
        if (a == "-U" and nxt and nxt:find("%", 1, true)) or startswith(a, "--password") then
          return true
        end
      end
    end
    return false
  end,
  output = "scripted password login: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "sshpass", filename = "/usr/bin/sshpass",
                argv = { "sshpass", "-p", "hunter2", "ssh", "root@10.0.0.7" } }, expect = true },
    { event = { type = "process.exec", comm = "smbclient", filename = "/usr/bin/smbclient",
                argv = { "smbclient", "//10.0.0.7/c$", "-U", "admin%hunter2" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "root@10.0.0.7" } }, expect = false },
  },
}

-- Control planes and remote services a workload has no business calling:
-- the docker API, the kubelet, etcd, cAdvisor, remote shells and desktops.
local CONTROL_PORTS = {
  [2375] = "docker API", [2376] = "docker API (TLS)", [10250] = "kubelet API",
  [10255] = "kubelet read-only API", [2379] = "etcd", [2380] = "etcd peer", [4194] = "cAdvisor",
  [22] = "ssh", [23] = "telnet", [3389] = "RDP", [5985] = "WinRM", [5986] = "WinRM (TLS)",
  [445] = "SMB", [139] = "NetBIOS", [5900] = "VNC", [10256] = "kube-proxy health",
  [9100] = "node exporter", [6783] = "weave", [8472] = "flannel",
}
local CONTROL_PORT_LIST = {}
for port in pairs(CONTROL_PORTS) do CONTROL_PORT_LIST[#CONTROL_PORT_LIST + 1] = port end

rule {
  name = "container_reached_control_plane_port",
  desc = "A process inside a container connected to a control plane or remote access port "
      .. "(docker API 2375, kubelet 10250, etcd 2379, ssh, RDP, WinRM, SMB, VNC): moving "
      .. "from a pod to the node or its neighbours",
  events = { "network.connect" },
  match = { family = { 2, 10 }, container = true, dport = CONTROL_PORT_LIST },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1021", "mitre:T1613", "mitre:T1552.007", "container" },
  when = function(e)
    return (e.family == 2 or e.family == 10) and e.container.id ~= nil
        and CONTROL_PORTS[e.dport] ~= nil and e.ret ~= -101
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) in "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod} connected to "
        .. "${daddr}:${dport}; command: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "curl", family = 2, daddr = "10.0.0.1",
                dport = 10250, container = { id = "abc" } }, expect = true },
    { event = { type = "network.connect", comm = "python3", family = 2, daddr = "172.17.0.1",
                dport = 2375, ret = -111, container = { id = "abc" } }, expect = true },
    { event = { type = "network.connect", comm = "curl", family = 2, daddr = "10.0.0.1",
                dport = 10250 }, expect = false },
    { event = { type = "network.connect", comm = "app", family = 2, daddr = "10.0.0.1",
                dport = 5432, container = { id = "abc" } }, expect = false },
  },
}

-- ssh options that take a value (the host is the first operand after them).
local SSH_ARG_FLAGS = tapio.set { "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L",
                                  "-l", "-m", "-O", "-o", "-p", "-Q", "-R", "-S", "-W", "-w",
                                  "-P" }

local function ssh_destination(argv)
  local i = 2
  while argv[i] do
    local a = argv[i]
    if SSH_ARG_FLAGS[a] then
      i = i + 1
    elseif not startswith(a, "-") then
      return (a:match("@([^:]+)") or a:match("^([^:]+)"))
    end
    i = i + 1
  end
  return nil
end

-- Programs that run ssh for their transfers: the loop behind them is the
-- session, not them.
local SSH_CALLERS = tapio.set { "scp", "sftp", "rsync" }

-- The process that runs the ssh commands: the shell or script above ssh,
-- above scp/sftp/rsync and above wrappers such as timeout or sshpass.
local function ssh_session(e)
  local p, a = e.parent, e.ancestors
  if p == nil or a == nil or not SSH_CALLERS[p.comm] then return session_pid(e) end
  local g = a[1]
  if g ~= nil and WRAPPERS[g.comm] and a[2] ~= nil then g = a[2] end
  return g and g.pid or e.ppid
end

local function ssh_tries(host_of, exit_code)
  local ev, pid = {}, 700
  for i = 1, 5 do
    pid = pid + 1
    ev[#ev + 1] = { type = "process.exec", comm = "ssh", pid = pid, ppid = 33,
                    filename = "/usr/bin/ssh",
                    argv = { "ssh", "-o", "BatchMode=yes", "root@" .. host_of(i), "id" } }
    ev[#ev + 1] = { type = "process.exit", comm = "ssh", pid = pid, ppid = 33,
                    exit_code = exit_code }
  end
  return ev
end

rule {
  name = "ssh_fan_out",
  desc = "ssh from one shell or script failed to log in (or to connect) to five or more "
      .. "different hosts within two minutes: a stolen key or password sprayed across the "
      .. "network (ssh, scp, sftp, rsync, through sshpass or timeout); a loop that logs in "
      .. "everywhere, as admins do, does not count",
  events = { "process.exec", "process.exit" },
  -- exits: ssh's own failure (255), of a process an exec put in dest (a
  -- process's keys go when it exits: no Lua call for the others)
  match = { ["process.exec"] = { ret = 0, filename_base = "ssh" },
            ["process.exit"] = { exit_code = 255 } },
  recall = { ["process.exit"] = "dest" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1021.004", "mitre:T1110.003", "mitre:T1570" },
  state = { dest = tapio.map { ttl = "10m" },
            failed = tapio.distinct { window = "120s", max_values = 64 } },
  when = function(e, s)
    if e.type == "process.exit" then
      local host = s.dest:get(e)
      if host == nil then return false end
      local n, new = s.failed:add(tapio.process(ssh_session(e)), host)
      return new and n == 5
    end
    if e.ret ~= 0 or basename(e.filename) ~= "ssh" then return false end
    local host = ssh_destination(e.argv)
    if host ~= nil then s.dest:set(e, host) end
    return false
  end,
  output = "ssh to a 5th host failed within two minutes from ${parent.comm} (pid ${ppid}, exe "
        .. "${parent.exe}), the last by ${comm} pid ${pid}, uid ${uid}, container "
        .. "${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { events = ssh_tries(function(i) return "10.0.0." .. i end, 255), expect = 10 },
    -- a deploy loop: every login works
    { events = ssh_tries(function(i) return "web" .. i end, 0), expect = false },
    -- one host tried five times
    { events = ssh_tries(function() return "git.example" end, 255), expect = false },
  },
}
