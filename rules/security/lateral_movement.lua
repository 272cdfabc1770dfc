-- Lateral movement (ATT&CK TA0008): remote logins scripted the way
-- attackers script them, and containers reaching for the control planes
-- and remote services of their neighbours.

local basename, startswith = tapio.basename, tapio.startswith

local SSH_CLIENTS = tapio.set { "ssh", "scp", "sftp", "rsync", "autossh" }

rule {
  name = "ssh_host_key_checking_disabled",
  desc = "ssh, scp or sftp was told not to check or remember the remote host's key "
      .. "(StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null): a login to a host the "
      .. "account never visited, leaving no trace in known_hosts",
  events = { "process.exec" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1021.004", "mitre:T1070" },
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

local PASSWORD_TOOLS = tapio.set { "sshpass", "hydra", "medusa", "ncrack", "patator",
                                   "crackmapexec", "nxc", "netexec" }

rule {
  name = "remote_login_with_scripted_password",
  desc = "A password was fed to a remote login by a tool (sshpass, hydra, medusa, ncrack, "
      .. "crackmapexec...) or put on an smbclient/rpcclient command line: logins scripted "
      .. "with stolen or guessed passwords",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1021.004", "mitre:T1110", "mitre:T1078" },
  when = function(e)
    if e.ret ~= 0 then return false end
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

rule {
  name = "container_reached_control_plane_port",
  desc = "A process inside a container connected to a control plane or remote access port "
      .. "(docker API 2375, kubelet 10250, etcd 2379, ssh, RDP, WinRM, SMB, VNC): moving "
      .. "from a pod to the node or its neighbours",
  events = { "network.connect" },
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
