-- Defense evasion (ATT&CK TA0005): traces erased (logs, the journal,
-- shell history, timestamps, files shredded), programs that disguise
-- themselves (names of daemons and kernel threads, hidden and odd
-- directories, document names, right-to-left overrides), payloads decoded
-- on the fly, code that never touches the disk, libraries preloaded into
-- others, defenses switched off, and code loaded into the kernel.

local basename, dirname, startswith, endswith = tapio.basename, tapio.dirname, tapio.startswith,
                                                tapio.endswith
local contains, startswith_any = tapio.contains, tapio.startswith_any
local O_ACCMODE, O_CREAT, O_TRUNC, O_APPEND = 3, 64, 512, 1024

local LISTED_SHELLS = SHELLS -- the shared list (lists.lua), before this file's own below
local SHELL_NAMES = { "sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "ash", "busybox",
                      "tcsh", "csh", "fish", "rbash", "yash", "posh" }
local SHELLS = tapio.set(SHELL_NAMES)
local SHELLS_AND_ENV = { "env", table.unpack(SHELL_NAMES) }

local LOGS = tapio.set {
  "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/run/utmp", "/run/utmp",
  "/var/log/auth.log", "/var/log/secure", "/var/log/syslog", "/var/log/messages",
  "/var/log/kern.log", "/var/log/audit/audit.log",
}
local LOG_WRITERS = tapio.set { "logrotate", "rsyslogd", "syslog-ng", "systemd-journal",
                                "auditd", "journalctl" }

rule {
  name = "login_records_or_logs_erased",
  desc = "A login record or system log was deleted or truncated by something other "
      .. "than the logging system",
  events = { "file.open", "file.unlink" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1070.002" },
  match = { ["file.open"] = { flags = { any = "O_TRUNC" } }, path = LOGS },
  when = function(e)
    if e.ret < 0 or LOG_WRITERS[e.comm] or not LOGS[e.path] then return false end
    return e.type == "file.unlink" or (e.flags & O_TRUNC) ~= 0
  end,
  output = "${path} erased (${type}) by ${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "file.open", comm = "sh", path = "/var/log/wtmp", flags = 1 | 512 },
      expect = true },
    { event = { type = "file.unlink", comm = "rm", path = "/var/log/auth.log" }, expect = true },
    { event = { type = "file.unlink", comm = "logrotate", path = "/var/log/auth.log" },
      expect = false },
    { event = { type = "file.open", comm = "sshd", path = "/var/log/wtmp", flags = 1 | 1024 },
      expect = false },
  },
}


-- fd paths: /proc/self/fd/3, /proc/1234/fd/3, /dev/fd/3 (execveat's
-- AT_EMPTY_PATH and fexecve name the program so)
local function fd_path(f)
  return f ~= nil and (f:find("^/proc/[%w]+/fd/%d+$") ~= nil or f:find("^/dev/fd/%d+$") ~= nil
      or startswith(f, "memfd:") or startswith(f, "/memfd:"))
end

rule {
  name = "fileless_execution",
  desc = "A program was executed from an anonymous memory file (memfd_create, whatever path "
      .. "named it: /proc/self/fd/N, execveat, a symbolic link) or from a file descriptor: "
      .. "code that was never written to disk",
  events = { "process.exec" },
  match = { ret = 0, one_of = { { exe_memfd = 1 },
                                { filename = { "/proc/*", "/dev/fd/*", "memfd:*", "/memfd:*" } } } },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1620", "mitre:T1027", "mitre:T1106" },
  when = function(e) return e.exe_memfd == true or fd_path(e.filename) end,
  output = "${filename} executed from a memory file or a descriptor (memfd ${exe_memfd}, deleted "
        .. "${exe_deleted}) by ${old_comm|comm} (pid ${pid}, uid ${uid}, exe ${exe}, parent "
        .. "${parent.comm} pid ${ppid} exe ${parent.exe}, container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "3", filename = "/dev/fd/3", argv = { "x" } },
      expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7" },
      expect = true },
    -- a symbolic link to the memfd: only the executed file tells
    { event = { type = "process.exec", comm = "update", filename = "/tmp/update",
                exe_memfd = true, old_comm = "python3", argv = { "update" } }, expect = true,
      output = "/tmp/update executed from a memory file or a descriptor (memfd true, deleted "
            .. "false) by python3 (pid 1000, uid 0, exe <NA>, parent <NA> pid 1 exe <NA>, container "
            .. "<NA>, pod <NA>/<NA>): update" },
    { event = { type = "process.exec", comm = "x", filename = "/proc/self/fd/7", ret = -2 },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", exe_memfd = false },
      expect = false },
  },
}

-- Container runtimes re-execute a sealed memfd copy of themselves (runc's
-- CVE-2019-5736 defence): the name before the exec is the runtime's.
exception { rule = "fileless_execution", old_comm = { "runc", "runc:*", "crun", "youki" },
            reason = "container runtime re-executing its own memfd copy" }

-- Programs that re-execute themselves (/proc/self/exe) after an upgrade
-- replaced their file: extend with an exception.
rule {
  name = "deleted_program_executed",
  desc = "A program was executed from a file that no longer exists (opened, deleted, then "
      .. "run through /proc/self/fd/N or a descriptor): a dropper running its payload and "
      .. "leaving nothing on disk for a scanner",
  events = { "process.exec" },
  match = { ret = 0, exe_deleted = 1 },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1620", "mitre:T1070.004", "mitre:T1027" },
  when = function(e) return e.exe_deleted == true end,
  output = "${filename} executed after its file was deleted (inode ${exe_ino} dev ${exe_dev}), "
        .. "by ${old_comm|comm} (pid ${pid}, uid ${uid}, exe ${exe}, parent ${parent.comm} pid "
        .. "${ppid} exe ${parent.exe}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${argv}",
  tests = {
    { event = { type = "process.exec", comm = "5", filename = "/proc/self/fd/5", exe_deleted = true,
                exe_ino = 42, exe_dev = 2049, old_comm = "bash", argv = { "x" } }, expect = true,
      output = "/proc/self/fd/5 executed after its file was deleted (inode 42 dev 2049), by bash "
            .. "(pid 1000, uid 0, exe <NA>, parent <NA> pid 1 exe <NA>, container <NA>, pod "
            .. "<NA>/<NA>): x" },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", exe_deleted = false },
      expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/tmp/x", exe_deleted = true,
                ret = -2 }, expect = false },
  },
}

-- Package managers replace programs that are running; their scripts may
-- restart one from the old file.
exception { rule = "deleted_program_executed", ancestor = PACKAGE_MANAGERS,
            reason = "package manager replacing running programs" }

local BPF_PROG_LOAD = 5
local SOCKET_FILTER = 1

-- libbpf, bpftool and every eBPF agent probe the kernel's features at start
-- with a few tiny socket filters ("libbpf_nametest"...): not worth an alert.
local function feature_probe(e)
  return e.prog_type == SOCKET_FILTER and e.insn_cnt <= 8
end

rule {
  name = "bpf_program_loaded",
  desc = "An eBPF program was loaded into the kernel by something other than systemd: "
      .. "eBPF can hide files, processes and connections",
  events = { "security.bpf" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1014", "mitre:T1562" },
  when = function(e)
    return e.cmd == BPF_PROG_LOAD and e.ret >= 0 and not tapio.startswith(e.comm, "systemd")
        and not feature_probe(e)
  end,
  output = "eBPF program ${name} (${prog_type_str}, ${insn_cnt} instructions) loaded by "
        .. "${comm} (pid ${pid}, uid ${uid})",
  tests = {
    { event = { type = "security.bpf", comm = "loader", cmd = 5, name = "hide", prog_type = 5,
                insn_cnt = 100, ret = 4 }, expect = true },
    { event = { type = "security.bpf", comm = "systemd", cmd = 5, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "agent", cmd = 5, name = "libbpf_nametest",
                prog_type = 1, insn_cnt = 2, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "agent", cmd = 5, prog_type = 1, insn_cnt = 400,
                ret = 4 }, expect = true },
    { event = { type = "security.bpf", comm = "x", cmd = 0, ret = 4 }, expect = false },
    { event = { type = "security.bpf", comm = "x", cmd = 5, ret = -1 }, expect = false },
  },
}

rule {
  name = "bpf_program_loaded_unprivileged",
  desc = "A process not running as root loaded an eBPF program",
  events = { "security.bpf" },
  severity = "error",
  importance = 0.85,
  tags = { "mitre:T1068" },
  when = function(e) return e.cmd == BPF_PROG_LOAD and e.ret >= 0 and e.uid ~= 0 end,
  output = "eBPF program ${name} loaded by ${comm} (pid ${pid}) as uid ${uid}",
  tests = {
    { event = { type = "security.bpf", comm = "x", uid = 1000, cmd = 5, ret = 3 },
      expect = true },
    { event = { type = "security.bpf", comm = "x", uid = 0, cmd = 5, ret = 3 }, expect = false },
  },
}

local PTRACE_WRITES = tapio.set { 4, 5, 6, 13 } -- POKETEXT, POKEDATA, POKEUSER, SETREGS

rule {
  name = "ptrace_memory_write",
  desc = "A process wrote into another process's memory or registers with ptrace: "
      .. "code injection",
  events = { "security.ptrace" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1055.008" },
  when = function(e)
    return e.ret == 0 and PTRACE_WRITES[e.request] ~= nil and not debugger_on_own_processes(e)
  end,
  output = "${comm} (pid ${pid}, uid ${uid}) wrote into pid ${target_pid} (${request_str})",
  tests = {
    -- a developer's gdb running their own program (MEMORY_TOOLS, not root)
    { event = { type = "security.ptrace", comm = "gdb", exe = "/usr/bin/gdb", uid = 1000,
                request = 13, target_pid = 42 }, expect = false },
    { event = { type = "security.ptrace", comm = "inject", request = 5, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "gdb", request = 4, target_pid = 42 },
      expect = true },
    { event = { type = "security.ptrace", comm = "x", request = 2, target_pid = 42 },
      expect = false },
  },
}

rule {
  name = "process_memory_written_by_syscall",
  desc = "A process wrote into another process's memory with process_vm_writev: code or "
      .. "data injected without ptrace (a payload, a patched function, a changed secret)",
  events = { "security.process_vm" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1055", "mitre:T1055.009" },
  state = { seen = tapio.map { ttl = "10m" } },
  when = function(e, s)
    if e.ret <= 0 or e.syscall_str ~= "process_vm_writev" then return false end
    local target = e.target_pid
    if target == e.pid or target == e.tid or debugger_on_own_processes(e) then return false end
    if s.seen:get(e) == target then return false end
    s.seen:set(e, target)
    return true
  end,
  output = "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}]) "
        .. "wrote ${ret} bytes into process ${target_pid} at ${remote_addr} with "
        .. "process_vm_writev; container ${container.id|'host'}, pod "
        .. "${k8s.namespace|'-'}/${k8s.pod|'-'}; command: ${argv|'?'}",
  tests = {
    { event = { type = "security.process_vm", comm = "inject", exe = "/tmp/inject", pid = 60,
                syscall = "process_vm_writev", target_pid = 42, remote_addr = 4096, ret = 32,
                argv = { "./inject", "42" } },
      expect = true,
      output = "inject (pid 60, uid 0, exe /tmp/inject, parent ?[1]) wrote 32 bytes into "
            .. "process 42 at 4096 with process_vm_writev; container host, pod -/-; command: "
            .. "./inject 42" },
    { event = { type = "security.process_vm", comm = "x", syscall = "process_vm_readv",
                target_pid = 42, ret = 32 }, expect = false },
    { event = { type = "security.process_vm", comm = "x", syscall = "process_vm_writev",
                target_pid = 42, ret = -3 }, expect = false },
    { event = { type = "security.process_vm", comm = "gdb", exe = "/usr/bin/gdb", uid = 1000,
                syscall = "process_vm_writev", target_pid = 42, ret = 8 }, expect = false },
  },
}

-- ------------------------------------------------------------ timestomping

-- Programs that set files' times to those of their source as their job:
-- archivers, copiers, package managers, version control. Extend it with
-- an exception on the rule for your own.
local TIME_KEEPERS = tapio.set { "tar", "bsdtar", "cpio", "unzip", "7z", "7za", "ar", "cp",
                                 "install", "mv", "rsync", "scp", "sftp-server", "dpkg", "apt",
                                 "apt-get", "rpm", "dnf", "yum", "apk", "pacman", "pip", "pip3",
                                 "npm", "yarn", "git", "make", "gzip", "gunzip", "xz", "bzip2",
                                 "zstd", "dpkg-deb", "systemd-tmpfile", "mandb", "ldconfig",
                                 -- useradd -m and adduser copy /etc/skel with its times
                                 "useradd", "adduser", "mkhomedir_helpe" }
local DAY = 86400

rule {
  name = "file_timestamps_forged",
  desc = "A file's times were set to another file's (touch -r) or to a date in the past "
      .. "(touch -d/-t, utime() from a script): timestomping, so a dropped or changed file "
      .. "blends in with its neighbours",
  events = { "process.exec", "file.utimes" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1070.006" },
  match = { ret = 0, ["process.exec"] = { filename_base = "touch" } },
  when = function(e)
    if e.ret ~= 0 then return false end
    if e.type == "file.utimes" then
      -- an explicit modification time at least a day before now
      return not e.mtime_now and not e.mtime_omit and e.mtime_sec ~= nil
          and e.mtime_sec < e.ts // 1000000000 - DAY and not TIME_KEEPERS[e.comm]
    end
    if basename(e.filename) ~= "touch" then return false end
    local argv = e.argv
    for i = 2, #argv do
      local a = argv[i]
      if a == "--" then return false end
      if a == "-r" or a == "-d" or a == "-t" or startswith(a, "--reference")
          or startswith(a, "--date") then
        return true
      end
      -- bundled short options: -amr, -ct
      if a:find("^%-[acfhm]*[rdt]") then return true end
    end
    return false
  end,
  output = "timestamps forged by ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv} "
        .. "${path} mtime ${mtime_sec}",
  tests = {
    { event = { type = "process.exec", comm = "touch", filename = "/usr/bin/touch",
                argv = { "touch", "-r", "/bin/ls", "/usr/bin/implant" } },
      expect = true,
      output = "timestamps forged by touch (pid 1000, uid 0, parent <NA> pid 1, container <NA>, "
            .. "pod <NA>/<NA>): touch -r /bin/ls /usr/bin/implant <NA> mtime <NA>" },
    { event = { type = "process.exec", comm = "touch", filename = "/usr/bin/touch",
                argv = { "touch", "-d", "2019-03-01 10:00", "x" } }, expect = true },
    { event = { type = "process.exec", comm = "touch", filename = "/bin/touch",
                argv = { "touch", "-amt", "201901010000", "x" } }, expect = true },
    { event = { type = "process.exec", comm = "touch", filename = "/bin/touch",
                argv = { "touch", "--reference=/etc/hosts", "x" } }, expect = true },
    { event = { type = "file.utimes", comm = "python3", path = "/usr/lib/x.so",
                ts = 1700000000 * 1000000000, mtime_sec = 1500000000, atime_sec = 1500000000 },
      expect = true },
    { event = { type = "process.exec", comm = "touch", filename = "/usr/bin/touch",
                argv = { "touch", "stamp" } }, expect = false },
    { event = { type = "process.exec", comm = "touch", filename = "/usr/bin/touch",
                argv = { "touch", "--", "-d" } }, expect = false },
    { event = { type = "file.utimes", comm = "tar", path = "/home/a/src/x.c",
                ts = 1700000000 * 1000000000, mtime_sec = 1500000000 }, expect = false },
    { event = { type = "file.utimes", comm = "touch", path = "/tmp/stamp",
                ts = 1700000000 * 1000000000, mtime_now = true }, expect = false },
    { event = { type = "file.utimes", comm = "useradd", path = "/home/ann/.bashrc",
                ts = 1700000000 * 1000000000, mtime_sec = 1500000000 }, expect = false },
  },
}

-- ------------------------------------------------------------ shell history

-- History files and the programs that keep them.
local HISTORY_OWNER = {
  [".bash_history"] = "bash", [".zsh_history"] = "zsh", [".histfile"] = "zsh",
  [".sh_history"] = "sh", [".ash_history"] = "ash", [".ksh_history"] = "ksh",
  [".python_history"] = "python", [".mysql_history"] = "mysql", [".psql_history"] = "psql",
  [".node_repl_history"] = "node", [".sqlite_history"] = "sqlite3", [".lesshst"] = "less",
  [".rediscli_history"] = "redis-cli", [".irb_history"] = "irb", [".lua_history"] = "lua",
}
local HISTORY_FILES = {}
for name in pairs(HISTORY_OWNER) do HISTORY_FILES[#HISTORY_FILES + 1] = name end
local function history_file(path)
  return path ~= nil and HISTORY_OWNER[basename(path)] ~= nil
end

local HISTORY_OFF = {
  "unset HISTFILE", "HISTFILE=/dev/null", "HISTFILE= ", "HISTFILE=;", "HISTSIZE=0",
  "HISTFILESIZE=0", "SAVEHIST=0", "set +o history", "history -c", "history -w /dev/null",
  "shopt -u -o history", "unset HISTSIZE", "HISTCONTROL=ignorespace", "unsetopt hist",
  "kill -9 $$",
}

rule {
  name = "shell_history_disabled",
  desc = "Shell history was turned off or redirected (HISTFILE unset or /dev/null, HISTSIZE=0, "
      .. "set +o history, history -c) on a command line or in the environment a shell passed "
      .. "on: the commands that follow leave no trace",
  events = { "process.exec" },
  match = { ret = 0, one_of = { { filename_base = SHELLS_AND_ENV },
                                { env = { HISTFILE = { "/dev/null", "" } } },
                                { ["env.HISTSIZE|env.HISTFILESIZE"] = "0" } } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1562.003", "mitre:T1070.003" },
  when = function(e)
    local env = e.env
    if env ~= nil then
      local hf = env.HISTFILE
      if hf == "/dev/null" or hf == "" or env.HISTSIZE == "0" or env.HISTFILESIZE == "0" then
        return true
      end
    end
    local name = basename(e.filename)
    if not SHELLS[name] and name ~= "env" then return false end
    local c = e.cmdline
    for _, p in ipairs(HISTORY_OFF) do
      if contains(c, p) then return true end
    end
    return false
  end,
  output = "shell history turned off by ${comm}: ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "-c", "unset HISTFILE; wget -q http://x/a" } }, expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "export HISTFILE=/dev/null HISTSIZE=0; id" } }, expect = true },
    { event = { type = "process.exec", comm = "env", filename = "/usr/bin/env",
                argv = { "env", "HISTFILE=/dev/null", "bash", "-i" } }, expect = true },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id", argv = { "id" },
                env = { HISTFILE = "/dev/null" } }, expect = true },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id", argv = { "id" },
                env = { HISTFILE = "/root/.bash_history" } }, expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "-c", "echo $HISTFILE" } }, expect = false },
  },
}

rule {
  name = "shell_history_linked_to_null",
  desc = "A shell history file was made a symbolic link to /dev/null: whatever the shell "
      .. "saves is thrown away",
  events = { "file.symlink" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.003", "mitre:T1562.003" },
  -- A failed attempt counts: `ln -sf` first tries the name itself (EEXIST),
  -- then links a temporary name and renames it over the file.
  when = function(e)
    return e.target == "/dev/null" and history_file(e.linkpath)
  end,
  output = "${linkpath} linked to /dev/null by ${comm} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "file.symlink", comm = "ln", target = "/dev/null",
                linkpath = "/root/.bash_history" }, expect = true },
    { event = { type = "file.symlink", comm = "ln", target = "/dev/null",
                linkpath = "/home/a/.zsh_history", ret = -17 }, expect = true },
    { event = { type = "file.symlink", comm = "ln", target = "/dev/null",
                linkpath = "/tmp/x" }, expect = false },
  },
}

rule {
  name = "shell_history_cleared",
  desc = "A history file was truncated or overwritten by a program other than the one that "
      .. "keeps it (or by a shell running a script, which keeps none)",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.003" },
  match = { flags = { any = "O_WRONLY|O_RDWR" }, path_base = HISTORY_FILES },
  when = function(e)
    if e.ret < 0 or (e.flags & O_ACCMODE) == 0 or (e.flags & O_APPEND) ~= 0 then return false end
    local path = e.path
    local owner = path and HISTORY_OWNER[basename(path)]
    if owner == nil then return false end
    local comm = e.comm:match("^(%a+)") or e.comm
    if comm ~= owner and not (owner == "sh" and SHELLS[e.comm]) then return true end
    -- the owning shell, but not an interactive one: bash -c '> ~/.bash_history'
    local argv = e.argv
    for i = 2, argv and #argv or 0 do
      if argv[i]:find("^%-%a*c") then return true end
    end
    return false
  end,
  output = "${path} overwritten (${flags_str}) by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, "
        .. "parent ${parent.comm} pid ${ppid}, container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "file.open", comm = "truncate", path = "/root/.bash_history",
                flags = 1 | 64, argv = { "truncate", "-s0", "/root/.bash_history" } },
      expect = true },
    { event = { type = "file.open", comm = "bash", path = "/root/.bash_history",
                flags = 1 | 64 | 512, argv = { "bash", "-c", "> ~/.bash_history" } },
      expect = true },
    { event = { type = "file.open", comm = "bash", path = "/root/.bash_history",
                flags = 1 | 64 | 512, argv = { "-bash" } }, expect = false },
    { event = { type = "file.open", comm = "python3", path = "/root/.python_history",
                flags = 1 | 64 | 512, argv = { "python3" } }, expect = false },
    { event = { type = "file.open", comm = "bash", path = "/root/.bash_history",
                flags = 1 | 1024, argv = { "-bash" } }, expect = false },
    { event = { type = "file.open", comm = "cat", path = "/root/.bash_history", flags = 0 },
      expect = false },
  },
}

-- ------------------------------------------------------------ logs and journal

-- Programs that rotate, write or trim logs as their job.
local LOG_KEEPERS = tapio.set { "logrotate", "rsyslogd", "syslog-ng", "systemd-journal",
                                "auditd", "savelog", "Xorg", "lightdm", "gdm3", "cloud-init",
                                "unattended-upgr", "dpkg", "apt", "apt-get", "sssd" }
local TRUNCATOR_NAMES = { "truncate", "shred", "dd", "wipe", "srm" }
local TRUNCATORS = tapio.set(TRUNCATOR_NAMES)

rule {
  name = "log_file_cleared",
  desc = "A file under /var/log was truncated, overwritten or deleted by something other "
      .. "than the logging system or logrotate",
  events = { "file.open", "file.unlink" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.002" },
  -- opens: O_TRUNC, or a truncator writing (what when wants of them): the
  -- appends of every logging program never reach Lua
  match = { path = "/var/log/*",
            ["file.open"] = { flags = { any = "O_TRUNC|O_WRONLY|O_RDWR" },
                              one_of = { { flags = { any = "O_TRUNC" } },
                                         { comm = TRUNCATOR_NAMES } } } },
  when = function(e)
    local p = e.path
    if e.ret < 0 or not startswith(p, "/var/log/") or LOGS[p] or LOG_KEEPERS[e.comm] then
      return false
    end
    if startswith(p, "/var/log/journal/") then return false end -- journal_cleared
    if e.type == "file.unlink" then return (e.flags & 0x200) == 0 end -- not rmdir
    local f = e.flags
    return (f & O_TRUNC) ~= 0 or (TRUNCATORS[e.comm] ~= nil and (f & O_ACCMODE) ~= 0)
  end,
  output = "${path} cleared (${type}) by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${argv}",
  tests = {
    { event = { type = "file.open", comm = "bash", path = "/var/log/nginx/access.log",
                flags = 1 | 64 | 512 }, expect = true },
    { event = { type = "file.open", comm = "truncate", path = "/var/log/app.log",
                flags = 1 | 64 }, expect = true },
    { event = { type = "file.unlink", comm = "rm", path = "/var/log/apache2/error.log" },
      expect = true },
    { event = { type = "file.open", comm = "nginx", path = "/var/log/nginx/access.log",
                flags = 1 | 64 | 1024 }, expect = false },
    { event = { type = "file.unlink", comm = "logrotate", path = "/var/log/syslog.4.gz" },
      expect = false },
    { event = { type = "file.open", comm = "sh", path = "/var/log/wtmp", flags = 1 | 512 },
      expect = false },
  },
}

rule {
  name = "journal_cleared",
  desc = "systemd journal files were deleted, or journalctl was told to vacuum or rotate "
      .. "them away",
  events = { "file.unlink", "process.exec" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.002" },
  match = { ["process.exec"] = { ret = 0, filename_base = "journalctl" },
            ["file.unlink"] = { ret = 0, path = { "*.journal", "*.journal~" } } },
  when = function(e)
    if e.type == "file.unlink" then
      local p = e.path
      return e.ret == 0 and e.comm ~= "systemd-journal" and p ~= nil
          and (endswith(p, ".journal") or endswith(p, ".journal~"))
    end
    if e.ret ~= 0 or basename(e.filename) ~= "journalctl" then return false end
    for _, a in ipairs(e.argv) do
      if startswith(a, "--vacuum-") then return true end
    end
    return false
  end,
  output = "journal cleared (${type}) by ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${path} ${argv}",
  tests = {
    { event = { type = "file.unlink", comm = "rm",
                path = "/var/log/journal/0123/system@0123-01-02.journal" }, expect = true },
    { event = { type = "process.exec", comm = "journalctl", filename = "/usr/bin/journalctl",
                argv = { "journalctl", "--rotate", "--vacuum-time=1s" } }, expect = true },
    { event = { type = "file.unlink", comm = "systemd-journal",
                path = "/var/log/journal/0123/system@0123-01-02.journal" }, expect = false },
    { event = { type = "process.exec", comm = "journalctl", filename = "/usr/bin/journalctl",
                argv = { "journalctl", "-u", "ssh" } }, expect = false },
  },
}

-- ------------------------------------------------------------ secure deletion

local WIPERS = tapio.set { "shred", "wipe", "srm", "sfill", "sswap", "sdmem", "scrub", "bcwipe",
                           "secure-delete" }
local WIPER_NAMES = { "dd" }
for name in pairs(WIPERS) do WIPER_NAMES[#WIPER_NAMES + 1] = name end

rule {
  name = "secure_file_deletion",
  desc = "A file was destroyed beyond recovery: a secure deletion tool ran (shred, wipe, "
      .. "srm...), dd overwrote a file with zeros or random bytes, or a file was renamed "
      .. "to zeros the way shred -u does before it unlinks",
  events = { "process.exec", "file.rename" },
  match = { ret = 0, ["process.exec"] = { filename_base = WIPER_NAMES },
            ["file.rename"] = { newpath = { "*/0*", "0*" } } },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1070.004", "mitre:T1485" },
  when = function(e)
    if e.type == "file.rename" then
      local new = basename(e.newpath)
      return e.ret == 0 and new ~= nil and new:find("^0+$") ~= nil
          and dirname(e.oldpath) == dirname(e.newpath)
          -- dpkg's journal of a running install: updates/tmp.i -> updates/0000
          and not startswith(e.newpath, "/var/lib/dpkg/updates/")
    end
    if e.ret ~= 0 then return false end
    local name = basename(e.filename)
    if WIPERS[name] then return true end
    if name ~= "dd" then return false end
    local from_noise, to_file = false, false
    for _, a in ipairs(e.argv) do
      if a == "if=/dev/zero" or a == "if=/dev/urandom" or a == "if=/dev/random" then
        from_noise = true
      elseif startswith(a, "of=") and not startswith(a, "of=/dev/") then
        to_file = true
      end
    end
    return from_noise and to_file and contains(e.cmdline, "conv=notrunc")
  end,
  output = "secure deletion by ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv} "
        .. "${newpath}",
  tests = {
    { event = { type = "process.exec", comm = "shred", filename = "/usr/bin/shred",
                argv = { "shred", "-zu", "/root/.bash_history" } }, expect = true },
    { event = { type = "file.rename", comm = "python3", oldpath = "/tmp/loot.tar",
                newpath = "/tmp/0000000" }, expect = true },
    { event = { type = "process.exec", comm = "dd", filename = "/bin/dd",
                argv = { "dd", "if=/dev/urandom", "of=/tmp/x", "conv=notrunc", "bs=1k" } },
      expect = true },
    { event = { type = "process.exec", comm = "dd", filename = "/bin/dd",
                argv = { "dd", "if=/dev/zero", "of=/swapfile", "bs=1M", "count=1024" } },
      expect = false },
    { event = { type = "file.rename", comm = "mv", oldpath = "/tmp/a", newpath = "/tmp/b" },
      expect = false },
  },
}

-- ------------------------------------------------------------ masquerading

-- Names of kernel threads and system daemons: a binary run under one of
-- them from anywhere but a system directory is hiding.
local KTHREADS = { "kworker", "kthreadd", "ksoftirqd", "kswapd", "migration", "rcu_", "watchdog",
                   "kdevtmpfs", "khugepaged", "kcompactd", "kblockd", "kauditd", "jbd2",
                   "kintegrityd", "writeback", "oom_reaper", "cpuhp", "idle_inject" }
local DAEMONS = tapio.set {
  "sshd", "systemd", "systemd-journald", "systemd-logind", "systemd-udevd", "systemd-resolved",
  "systemd-networkd", "systemd-timesyncd", "init", "cron", "crond", "atd", "anacron",
  "rsyslogd", "syslogd", "syslog-ng", "dbus-daemon", "agetty", "getty", "polkitd", "udevd",
  "NetworkManager", "wpa_supplicant", "dhclient", "chronyd", "ntpd", "auditd", "containerd",
  "containerd-shim", "dockerd", "kubelet", "kube-proxy", "snapd", "accounts-daemon", "acpid",
  "irqbalance", "rpcbind", "master", "postfix", "exim4", "sendmail", "login", "sudo", "su",
  "passwd", "ps", "ls", "netstat", "ss", "top", "lsof", "bash", "sh",
}
local SYSTEM_DIRS = { "/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/", "/usr/lib/", "/lib/",
                      "/usr/libexec/", "/usr/local/sbin/", "/usr/local/bin/", "/usr/local/lib/",
                      "/opt/", "/snap/", "/nix/store/", "/usr/lib64/", "/lib64/" }

-- What the masquerading rules' matches let through to Lua: the daemons'
-- names, the kernel threads' prefixes, anything in brackets; and (for an
-- argument) the same after a '/'.
local SYSTEM_NAMES, SYSTEM_NAME_ARGS = { "[*" }, { "[*", "*/[*" }
for name in pairs(DAEMONS) do
  SYSTEM_NAMES[#SYSTEM_NAMES + 1] = name
  SYSTEM_NAME_ARGS[#SYSTEM_NAME_ARGS + 1] = name
  SYSTEM_NAME_ARGS[#SYSTEM_NAME_ARGS + 1] = "*/" .. name
end
for _, k in ipairs(KTHREADS) do
  SYSTEM_NAMES[#SYSTEM_NAMES + 1] = k .. "*"
  SYSTEM_NAME_ARGS[#SYSTEM_NAME_ARGS + 1] = k .. "*"
  SYSTEM_NAME_ARGS[#SYSTEM_NAME_ARGS + 1] = "*/" .. k .. "*"
end

local function kthread_name(name)
  if name == nil then return false end
  local bare = name:match("^%[(.*)%]$") or name
  for _, k in ipairs(KTHREADS) do
    if startswith(bare, k) then return true end
  end
  return false
end

rule {
  name = "program_masquerading_as_system_daemon",
  desc = "A program named like a kernel thread or a system daemon (kworker, sshd, cron, "
      .. "systemd-journald...) was run from outside the system directories: malware hides "
      .. "behind names an admin expects in ps",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1036.005", "mitre:T1036.004" },
  match = { ret = 0, filename_base = SYSTEM_NAMES },
  when = function(e)
    local f = e.filename
    if e.ret ~= 0 or f == nil then return false end
    local name = basename(f)
    if not (DAEMONS[name] or kthread_name(name)) then return false end
    return not startswith(f, "/") or not startswith_any(f, SYSTEM_DIRS)
  end,
  output = "${filename} runs under a system name (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${argv}",
  tests = {
    { event = { type = "process.exec", comm = "kworker", filename = "/tmp/.x/kworker",
                argv = { "kworker" } }, expect = true },
    { event = { type = "process.exec", comm = "sshd", filename = "/dev/shm/sshd",
                argv = { "sshd" } }, expect = true },
    { event = { type = "process.exec", comm = "crond", filename = "./crond", argv = { "crond" } },
      expect = true },
    { event = { type = "process.exec", comm = "sshd", filename = "/usr/sbin/sshd",
                argv = { "/usr/sbin/sshd", "-D" } }, expect = false },
    { event = { type = "process.exec", comm = "bash", filename = "/usr/bin/bash",
                argv = { "bash" } }, expect = false },
    { event = { type = "process.exec", comm = "worker", filename = "/tmp/worker",
                argv = { "worker" } }, expect = false },
  },
}

rule {
  name = "process_name_spoofed",
  desc = "A process was started with an argv[0] that names something else: a kernel "
      .. "thread in brackets ([kworker/0:1]) or a system daemon, unlike the program run "
      .. "(exec -a): what ps and top show is a lie",
  events = { "process.exec" },
  -- argv[0] (any argument, in C) a daemon's or a kernel thread's name
  match = { ret = 0, argv = SYSTEM_NAME_ARGS },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1036.004", "mitre:T1564" },
  when = function(e)
    local argv0, f = e.argv and e.argv[1], e.filename
    if argv0 == nil or f == nil then return false end
    local name, shown = basename(f), basename(argv0)
    if shown == name then return false end
    if argv0:find("^%[.*%]$") then return true end
    return (DAEMONS[shown] ~= nil or kthread_name(shown)) and SHELLS[shown] == nil
        and not (name:find(shown, 1, true)) -- python3 run as python3.11
  end,
  output = "${filename} runs as \"${argv}\" (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "miner", filename = "/tmp/miner",
                argv = { "[kworker/0:1]" } }, expect = true },
    { event = { type = "process.exec", comm = "miner", filename = "/tmp/miner",
                argv = { "/tmp/.x/[kthreadd]" } }, expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "sshd: root@pts/0", "-c", "x" } }, expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/tmp/x",
                argv = { "/usr/sbin/sshd", "-D" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash", argv = { "-bash" } },
      expect = false },
    { event = { type = "process.exec", comm = "busybox", filename = "/bin/busybox",
                argv = { "sh" } }, expect = false },
    { event = { type = "process.exec", comm = "sshd", filename = "/usr/sbin/sshd",
                argv = { "sshd", "-D" } }, expect = false },
  },
}

-- The name a process gave itself, as a daemon name: "sshd: root@pts/0"
-- -> "sshd".
local function daemon_word(name)
  if name == nil then return nil end
  local word = name:match("^([^%s:]+)[%s:]")
  -- short words (ps, ss, su, sh, at) start many thread names: whole names only
  return (word ~= nil and #word >= 4) and word or name
end

-- The daemons' names as the kernel keeps a task's name (15 bytes).
local DAEMON_COMMS = {}
for name in pairs(DAEMONS) do DAEMON_COMMS[name:sub(1, 15)] = true end

-- A name a user process takes to pass for a kernel thread or a system
-- daemon (not a shell: shells rename themselves in ordinary use), unless
-- it is its own program's name.
local function disguise_name(name, exe)
  if name == nil or name == "" then return false end
  local own = exe and basename(exe)
  if own ~= nil and (own == name or own:sub(1, 15) == name) then return false end
  if name:find("^%[.*%]$") or kthread_name(name) then return true end
  local word = daemon_word(name)
  return own ~= nil and DAEMON_COMMS[word] ~= nil and SHELLS[word] == nil
      and own:sub(1, #word) ~= word
end

-- A kernel helper the kernel starts itself (modprobe, a core dump pipe,
-- hotplug) begins as a child of a kernel thread, under its name.
local function kernel_helper(e)
  local par = e.parent
  return e.ppid == 2 or (par ~= nil and par.exe == nil and kthread_name(par.comm))
end

rule {
  name = "process_renamed_to_system_name",
  desc = "A process renamed itself (prctl PR_SET_NAME, a write to /proc/self/comm or a "
      .. "thread's comm, perl's $0) to a kernel thread's or a system daemon's name "
      .. "([kworker/0:1], sshd, systemd-journald) that is not its program's, or a process "
      .. "so renamed started a program: what ps, top and kill -l show is a disguise",
  events = { "process.rename", "process.exec" },
  match = { ["process.exec"] = { ret = 0, old_comm = true } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1036.004", "mitre:T1036.005", "mitre:T1564" },
  when = function(e)
    if e.type == "process.rename" then
      return e.new_comm ~= e.old_comm and disguise_name(e.new_comm, e.exe)
    end
    -- a renamed process running its next program: only kernel-thread
    -- names count (sshd and cron start programs under their own names)
    local old = e.old_comm
    return (old:find("^%[.*%]$") ~= nil or kthread_name(old)) and not kernel_helper(e)
  end,
  output = "disguised as \"${new_comm|old_comm}\": ${type} ${syscall_str|filename} by ${comm} "
        .. "(pid ${pid}, task ${target_tid|pid}, name before \"${old_comm}\", exe ${exe}, uid "
        .. "${uid}, parent ${parent.comm} pid ${ppid} exe ${parent.exe}, container ${container.id}, "
        .. "pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.rename", comm = "python3", old_comm = "python3",
                new_comm = "[kworker/0:1]", exe = "/usr/bin/python3.11", syscall = "prctl",
                target_pid = 1000, target_tid = 1001, argv = { "python3", "x.py" } },
      expect = true,
      output = "disguised as \"[kworker/0:1]\": process.rename prctl by python3 (pid 1000, task "
            .. "1001, name before \"python3\", exe /usr/bin/python3.11, uid 0, parent <NA> pid 1 "
            .. "exe <NA>, container <NA>, pod <NA>/<NA>): python3 x.py" },
    { event = { type = "process.rename", comm = "perl", old_comm = "perl",
                new_comm = "sshd: root@pts/", exe = "/usr/bin/perl" }, expect = true },
    { event = { type = "process.rename", comm = "bash", old_comm = "bash",
                new_comm = "systemd-journal", exe = "/usr/bin/bash" }, expect = true },
    { event = { type = "process.rename", comm = "x", old_comm = "x", new_comm = "kthreadd" },
      expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh", old_comm = "[kworker/0:1]",
                ppid = 4242, parent = { comm = "bash", exe = "/usr/bin/bash" }, argv = { "sh" } },
      expect = true },
    -- its own name, truncated to 15 bytes
    { event = { type = "process.rename", comm = "systemd-journal", old_comm = "systemd-journal",
                new_comm = "systemd-journal", exe = "/usr/lib/systemd/systemd-journald" },
      expect = false },
    { event = { type = "process.rename", comm = "sshd", old_comm = "sshd", new_comm = "sshd",
                exe = "/usr/sbin/sshd" }, expect = false },
    { event = { type = "process.rename", comm = "firefox", old_comm = "firefox",
                new_comm = "Socket Thread", exe = "/usr/lib/firefox/firefox" }, expect = false },
    { event = { type = "process.rename", comm = "systemd", old_comm = "systemd",
                new_comm = "(sd-pam)", exe = "/usr/lib/systemd/systemd" }, expect = false },
    { event = { type = "process.rename", comm = "zsh", old_comm = "zsh", new_comm = "bash",
                exe = "/usr/bin/zsh" }, expect = false },
    { event = { type = "process.rename", comm = "java", old_comm = "java", new_comm = "ss:poller",
                exe = "/usr/lib/jvm/bin/java" }, expect = false },
    { event = { type = "process.rename", comm = "x", old_comm = "x", new_comm = "cron: job 4",
                exe = "/tmp/x" }, expect = true },
    -- the kernel's helpers start under their kernel thread's name
    { event = { type = "process.exec", comm = "modprobe", filename = "/sbin/modprobe",
                old_comm = "kworker/u8:3", ppid = 2, argv = { "/sbin/modprobe", "-q", "x" } },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/bin/ls", old_comm = "bash",
                argv = { "ls" } }, expect = false },
  },
}

-- A path component no one names a directory by on purpose: dots only
-- ("...", "...."), leading or trailing spaces, control characters.
local function odd_component(path)
  for comp in path:gmatch("[^/]+") do
    if comp ~= "." and comp ~= ".." and (comp:find("^%.+$") or comp:find("^%s") or comp:find("%s$")
        or comp:find("%c") or comp:find("^[%.%s]+$")) then
      return comp
    end
  end
  return nil
end

rule {
  name = "exec_from_odd_directory",
  desc = "A program was run from a path with a name made to be overlooked: \"...\", "
      .. "\". \", a trailing space, control characters",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1564.001", "mitre:T1036.006" },
  -- a component of three dots or more, one with a space first or last or
  -- after its leading dots, a control character anywhere
  match = { ret = 0, filename = { "*/...*", "...*", "*/ *", " *", "* /*", "* ", "*/. *", ". *",
                                  "*/.. *", ".. *", "*[[:cntrl:]]*" } },
  when = function(e)
    return e.ret == 0 and e.filename ~= nil and odd_component(e.filename) ~= nil
  end,
  output = "\"${filename}\" executed (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "x", filename = "/tmp/.../x" }, expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/var/tmp/. /x" }, expect = true },
    { event = { type = "process.exec", comm = "y ", filename = "/home/a/y " }, expect = true },
    { event = { type = "process.exec", comm = "x", filename = "/usr/bin/../bin/x" },
      expect = false },
    { event = { type = "process.exec", comm = "x", filename = "./x" }, expect = false },
  },
}

-- Hidden directories that tools install programs into. Extend it with an
-- exception on the rule for your own.
local HIDDEN_TOOL_DIRS = {
  "/.local/", "/.cargo/", "/.rustup/", "/.pyenv/", "/.rbenv/", "/.nvm/", "/.npm/", "/.bun/",
  "/.deno/", "/.sdkman/", "/.vscode-server/", "/.vscode/", "/.cursor-server/", "/.cache/",
  "/.m2/", "/.gradle/", "/.gem/", "/.conda/", "/.virtualenvs/", "/.venv/", "/.tox/", "/.nox/",
  "/.asdf/", "/.volta/", "/.ghcup/", "/.cabal/", "/.dotnet/", "/.linuxbrew/", "/.krew/",
  "/.git/", "/.config/", "/.mozilla/", "/.steam/", "/.terraform.d/", "/.terraform/",
  -- libtool's uninstalled programs in a build tree (make check)
  "/.libs/",
}

rule {
  name = "exec_from_hidden_directory",
  desc = "A program was run from a hidden directory or is a hidden file itself (/tmp/.x/, "
      .. "/dev/shm/.cache/, ~/.x): where dropped tools hide",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1564.001" },
  match = { ret = 0, filename = "*/.*" },
  when = function(e)
    local f = e.filename
    if e.ret ~= 0 or f == nil or not startswith(f, "/") then return false end
    if not (f:find("/%.[^/%.]") or f:find("/%.%.[^/]")) then return false end
    for _, d in ipairs(HIDDEN_TOOL_DIRS) do
      if contains(f, d) then return false end
    end
    return true
  end,
  output = "${filename} executed from a hidden path (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${argv}",
  tests = {
    { event = { type = "process.exec", comm = "x", filename = "/tmp/.ICE-unix/.x/miner" },
      expect = true },
    { event = { type = "process.exec", comm = ".x", filename = "/var/tmp/.x" }, expect = true },
    { event = { type = "process.exec", comm = "cargo", filename = "/root/.cargo/bin/cargo" },
      expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/usr/bin/x" }, expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/tmp/.x", ret = -2 },
      expect = false },
  },
}

local DOC_EXT_LIST = { "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "txt",
                       "rtf", "csv", "jpg", "jpeg", "png", "gif", "bmp", "svg", "mp3", "mp4",
                       "avi", "mov", "mkv", "wav", "iso", "html", "htm" }
local DOC_EXT = tapio.set(DOC_EXT_LIST)
-- The names document_named (below) can take, as globs for the match: a
-- document's extension, last or before the last, in any case ("*.[pP][dD][fF]"),
-- or trailing white space. A superset: when decides.
local DOC_NAMES = { "* ", "*\t", "*\n", "*\v", "*\f", "*\r" }
for _, ext in ipairs(DOC_EXT_LIST) do
  local any = ext:gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end)
  DOC_NAMES[#DOC_NAMES + 1] = "*." .. any
  DOC_NAMES[#DOC_NAMES + 1] = "*." .. any .. ".*"
end
local INTERPRETER_STEMS = tapio.set { "sh", "bash", "dash", "zsh", "python", "perl", "ruby",
                                      "node", "php", "lua" }

-- Whether a file name says "document" where the file runs: "a.pdf",
-- "invoice.pdf.sh", "report.txt ".
local function document_named(name)
  if name == nil or not name:find(".", 1, true) then return false end
  if name:find("%s$") then return true end
  local last = name:match("%.([%w]+)$")
  if last and DOC_EXT[last:lower()] then return true end
  local inner = name:match("%.([%w]+)%.[%w]+$")
  return inner ~= nil and DOC_EXT[inner:lower()] ~= nil
end

rule {
  name = "document_named_file_executed",
  desc = "A file named like a document or picture was run (invoice.pdf.sh, photo.jpg as "
      .. "a program, report.txt with a trailing space): a double extension or a file type "
      .. "in disguise",
  events = { "process.exec" },
  -- a program named like a document; else an interpreter, for its
  -- script (its first argument: when looks at no other)
  match = { ret = 0, one_of = { { filename_base = DOC_NAMES },
                                { filename_base = { "sh*", "bash*", "dash*", "zsh*", "python*",
                                                    "perl*", "ruby*", "node*", "php*", "lua*" },
                                  ["argv[2]"] = DOC_NAMES } } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1036.007", "mitre:T1036.008", "mitre:T1036.006" },
  when = function(e)
    local name = basename(e.filename)
    if document_named(name) then return true end
    -- an interpreter given one as its script
    local stem = (name or ""):match("^(%a+)")
    if stem == nil or INTERPRETER_STEMS[stem] == nil then return false end
    local script = e.argv and e.argv[2]
    return script ~= nil and not startswith(script, "-") and document_named(basename(script))
  end,
  output = "document-named file run: ${filename} ${argv} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "invoice.pdf.sh", filename = "/tmp/invoice.pdf.sh" },
      expect = true },
    { event = { type = "process.exec", comm = "photo.jpg", filename = "/home/a/photo.jpg" },
      expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "/tmp/notes.txt" } }, expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "build.py" } }, expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/usr/bin/x.sh" }, expect = false },
    { event = { type = "process.exec", comm = "INVOICE.PDF.sh",
                filename = "/tmp/INVOICE.PDF.sh" }, expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "/home/a/Scan.Jpeg" } }, expect = true },
    { event = { type = "process.exec", comm = "report.txt ", filename = "/tmp/report.txt " },
      expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "/opt/app/bin/worker.py", "--queue" } }, expect = false },
  },
}

-- Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069) and marks
-- (U+200E, U+200F) in UTF-8: they reorder what a listing shows.
local BIDI = { "\226\128\170", "\226\128\171", "\226\128\172", "\226\128\173", "\226\128\174",
               "\226\129\166", "\226\129\167", "\226\129\168", "\226\129\169", "\226\128\142",
               "\226\128\143" }
local function has_bidi(s)
  if s == nil or not s:find("\226", 1, true) then return false end
  for _, b in ipairs(BIDI) do
    if s:find(b, 1, true) then return true end
  end
  return false
end

rule {
  name = "bidi_control_in_file_name",
  desc = "A file name with a right-to-left override or another bidirectional control was "
      .. "created or run: \"invoice\\u202Efdp.sh\" lists as invoice hs.pdf",
  events = { "process.exec", "file.open", "file.rename" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1036.002" },
  match = { ["file.open"] = { flags = { any = "O_CREAT" } },
            ["filename|path|newpath"] = "*\226*" }, -- the first byte of each control
  when = function(e)
    if e.ret < 0 then return false end
    if e.type == "process.exec" then return has_bidi(e.filename) end
    if e.type == "file.rename" then return has_bidi(e.newpath) end
    return (e.flags & O_CREAT) ~= 0 and has_bidi(e.path)
  end,
  output = "bidirectional control in a file name (${type}) by ${comm} (pid ${pid}, uid ${uid}, "
        .. "parent ${parent.comm} pid ${ppid}, container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}): ${filename}${path}${newpath}",
  tests = {
    { event = { type = "process.exec", comm = "x", filename = "/tmp/invoice\226\128\174fdp.sh" },
      expect = true },
    { event = { type = "file.open", comm = "cp", path = "/home/a/cv\226\128\174fdp.elf",
                flags = 65 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/home/a/cv\226\128\174fdp.elf",
                flags = 0 }, expect = false },
    { event = { type = "process.exec", comm = "x", filename = "/tmp/caf\195\169" }, expect = false },
  },
}

-- Hidden names that systems and common tools make in temporary directories.
local TMP_HIDDEN_EXPECTED = { "/.X11-unix", "/.ICE-unix", "/.XIM-unix", "/.font-unix",
                              "/.Test-unix", "/.X0-lock", "/.X1-lock", "/.s.PGSQL.", "/.tmp",
                              "/.com.google.Chrome", "/.org.chromium.", "/.java_pid",
                              "/.esd-", "/.pulse", "/.lock", "/.git" }
local TMP_DIRS = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/" }

-- The hidden entry right under a temporary directory, if there is one:
-- "/tmp/.x/y" -> "/.x"
local function hidden_in_tmp(path)
  if path == nil or not startswith_any(path, TMP_DIRS) then return nil end
  local rest = path:match("^/tmp(/.*)$") or path:match("^/var/tmp(/.*)$")
      or path:match("^/dev/shm(/.*)$") or path:match("^/run/shm(/.*)$")
  local top = rest and rest:match("^(/[^/]+)")
  if top == nil or not top:find("^/%.") then return nil end
  for _, x in ipairs(TMP_HIDDEN_EXPECTED) do
    if startswith(top, x) then return nil end
  end
  return top
end

rule {
  name = "hidden_file_in_tmp",
  desc = "A hidden file or directory was made directly under /tmp, /var/tmp or /dev/shm "
      .. "(/tmp/.x, /dev/shm/.cache): where dropped tools and their output hide",
  events = { "file.mkdir", "file.open", "file.rename" },
  severity = "notice",
  importance = 0.6,
  tags = { "mitre:T1564.001" },
  -- a hidden entry right under a temporary directory
  match = { ["file.open"] = { flags = { any = "O_CREAT" } },
            ["path|newpath"] = { "/tmp/.*", "/var/tmp/.*", "/dev/shm/.*", "/run/shm/.*" } },
  when = function(e)
    if e.ret < 0 then return false end
    if e.type == "file.rename" then return hidden_in_tmp(e.newpath) ~= nil end
    if e.type == "file.open" and (e.flags & O_CREAT) == 0 then return false end
    return hidden_in_tmp(e.path) ~= nil
  end,
  output = "hidden ${path}${newpath} made (${type}) by ${comm} (pid ${pid}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "file.mkdir", comm = "mkdir", path = "/tmp/.x" }, expect = true },
    { event = { type = "file.open", comm = "curl", path = "/dev/shm/.cache/b", flags = 577 },
      expect = true },
    { event = { type = "file.mkdir", comm = "systemd-tmpfile", path = "/tmp/.X11-unix" },
      expect = false },
    { event = { type = "file.open", comm = "cargo", path = "/tmp/.tmpA1b2C3/x", flags = 577 },
      expect = false },
    { event = { type = "file.open", comm = "cat", path = "/tmp/.x", flags = 0 }, expect = false },
  },
}

-- ------------------------------------------------------------ decode and run

local DECODE = { "base64 -d", "base64 --decode", "base64 -D", "base32 -d", "base32 --decode",
                 "xxd -r", "xxd -p -r", "openssl enc -d", "openssl base64 -d", "openssl enc -base64 -d",
                 "| rev", "|rev", "gunzip", "zcat", "uudecode", "tr 'A-Za-z' 'N-ZA-Mn-za-m'",
                 "printf '\\x", 'printf "\\x', "echo -e '\\x", 'echo -e "\\x', "perl -pe" }
local RUN = { "| sh", "|sh", "| bash", "|bash", "| dash", "| zsh", "| python", "|python",
              "| perl", "|perl", "| ruby", "| node", "| php", "| lua", "eval ", "eval\"",
              "sh -c \"$(", "bash -c \"$(", "sh <(", "bash <(", ". <(", "source <(",
              "| /bin/sh", "| /bin/bash", "|/bin/sh", "|/bin/bash" }

local function any(s, list)
  for _, p in ipairs(list) do
    if s:find(p, 1, true) then return p end
  end
  return nil
end

rule {
  name = "decoded_payload_run_by_shell",
  desc = "A shell command decodes something (base64, base32, xxd, openssl, rev, gunzip, "
      .. "hex escapes) and runs the result in a shell or an interpreter: obfuscated payloads",
  events = { "process.exec" },
  match = { ret = 0, filename_base = SHELLS },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1140", "mitre:T1027", "mitre:T1059.004" },
  when = function(e)
    if e.ret ~= 0 or not SHELLS[basename(e.filename)] then return false end
    local c = e.cmdline
    return any(c, DECODE) ~= nil and any(c, RUN) ~= nil
  end,
  output = "decoded payload run by ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "echo aWQK | base64 -d | sh" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "-c", "eval \"$(echo 6964 | xxd -r -p)\"" } }, expect = true },
    { event = { type = "process.exec", comm = "bash", filename = "/bin/bash",
                argv = { "bash", "-c", "echo di | rev | bash" } }, expect = true },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "base64 -d key.b64 > key.pem" } }, expect = false },
    { event = { type = "process.exec", comm = "sh", filename = "/bin/sh",
                argv = { "sh", "-c", "make | tee log" } }, expect = false },
  },
}

local DECODE_CALLS = { "b64decode", "base64.", "decode_base64", "unpack(\"m", "unpack('m",
                       "Base64.decode64", "'base64')", "\"base64\")", "atob(", "base64_decode",
                       "zlib.decompress", "codecs.decode", "bytes.fromhex", "unhexlify",
                       "marshal.loads", "fromCharCode", "gzinflate", "str_rot13", "pack(\"H",
                       "pack('H", "[::-1]", ".reverse" }
local EXEC_CALLS = { "exec(", "eval(", "compile(", "system(", "popen", "subprocess", "spawn",
                     "Function(", "child_process", "os.execute", "loadstring", "load(",
                     "assert(", "create_function", "instance_eval", "execSync", "runInThisContext" }

-- Inline code of an interpreter (-c, -e, -r), or nil.
local INLINE_FLAG = { python = "-c", perl = "-e", ruby = "-e", node = "-e", nodejs = "-e",
                      php = "-r", lua = "-e", luajit = "-e" }
local function inline_code(e)
  local stem = (basename(e.filename) or ""):match("^(%a+)")
  local flag = stem and INLINE_FLAG[stem]
  if flag == nil or e.argv == nil then return nil end
  local argv = e.argv
  for i = 2, #argv do
    local a = argv[i]
    if a == flag or a == "-E" or a == "--eval" then return argv[i + 1] end
    if not startswith(a, "-") then return nil end
  end
  return nil
end

rule {
  name = "interpreter_runs_decoded_code",
  desc = "An interpreter was started with inline code that decodes (base64, hex, zlib, "
      .. "rot13, reversed strings) and evaluates the result: an obfuscated stager",
  events = { "process.exec" },
  -- an interpreter (python3.11 as python) given inline code
  match = { ret = 0, filename_base = { "python*", "perl*", "ruby*", "node*", "php*", "lua*" },
            argv = { "-c", "-e", "-r", "-E", "--eval" } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1140", "mitre:T1027", "mitre:T1059.006" },
  when = function(e)
    local code = inline_code(e)
    return code ~= nil and any(code, DECODE_CALLS) ~= nil and any(code, EXEC_CALLS) ~= nil
  end,
  output = "decoded code evaluated by ${comm} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import base64;exec(base64.b64decode('cHJpbnQoMSk='))" } },
      expect = true },
    { event = { type = "process.exec", comm = "perl", filename = "/usr/bin/perl",
                argv = { "perl", "-MMIME::Base64", "-e", "eval(decode_base64('cHJpbnQgMTs='))" } },
      expect = true },
    { event = { type = "process.exec", comm = "node", filename = "/usr/bin/node",
                argv = { "node", "-e", "eval(Buffer.from('Y29uc29sZS5sb2coMSk=','base64').toString())" } },
      expect = true },
    { event = { type = "process.exec", comm = "python3", filename = "/usr/bin/python3",
                argv = { "python3", "-c", "import base64;print(base64.b64decode('eA=='))" } },
      expect = false },
  },
}

-- ------------------------------------------------------------ preloading

-- preload_expected(v) is a macro (rules/lib/macros.lua, the list PRELOAD_EXPECTED).

rule {
  name = "library_preload_in_environment",
  desc = "A program was started with LD_PRELOAD or LD_AUDIT naming a library: code "
      .. "injected into every program started from there (rootkits, credential sniffers)",
  events = { "process.exec" },
  match = { ret = 0, one_of = { { ["env.LD_PRELOAD|env.LD_AUDIT"] = true },
                                { filename_base = SHELLS_AND_ENV,
                                  cmdline = { "*LD_PRELOAD=*", "*LD_AUDIT=*" } } } },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1574.006" },
  when = function(e)
    local env = e.env
    if env ~= nil then
      local v = env.LD_PRELOAD or env.LD_AUDIT
      if v ~= nil and v ~= "" and not preload_expected(v) then return true end
    end
    local name = basename(e.filename)
    if not (SHELLS[name] or name == "env") then return false end
    local c = e.cmdline
    local i = c:find("LD_PRELOAD=", 1, true) or c:find("LD_AUDIT=", 1, true)
    return i ~= nil and not preload_expected(c:sub(i))
  end,
  output = "library preloaded into ${filename} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "process.exec", comm = "env", filename = "/usr/bin/env",
                argv = { "env", "LD_PRELOAD=/tmp/.x/libhide.so", "ps" } }, expect = true },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_PRELOAD = "/dev/shm/k.so" } }, expect = true },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_PRELOAD = "/usr/lib/x86_64-linux-gnu/libfakeroot/libfakeroot-sysv.so" } },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" } },
      expect = false },
  },
}

-- The first planted entry of a list of libraries or directories (LD_PRELOAD
-- is split on spaces and colons, the others on colons), or nil.
-- `strict` (LD_PRELOAD, LD_AUDIT) also counts a hidden directory and a
-- relative path; a search path (LD_LIBRARY_PATH) counts only the planted
-- directories, /dev/shm and hidden directories right under them: build
-- trees in /tmp (libtool's .libs) set it for their own programs.
local function planted_entry(v, strict)
  if v == nil or v == "" then return nil end
  for entry in v:gmatch("[^:; ]+") do
    if startswith_any(entry, PRELOAD_PLANTED_DIRS) then
      if strict or not startswith_any(entry, TMP_DIRS) or startswith(entry, "/dev/shm/")
          or hidden_in_tmp(entry) ~= nil then
        return entry
      end
    elseif strict and (entry:find("/%.[^/%.]") or (not startswith(entry, "/")
        and entry:find("/", 1, true))) then
      return entry
    end
  end
  return nil
end

-- The planted library (or path) an exec got, and the variable, or nil.
local function planted_preload(e)
  local env = e.env
  if env == nil then return nil end
  local v = env.LD_PRELOAD
  local hit = v and not preload_expected(v) and planted_entry(v, true)
  if hit then return hit, "LD_PRELOAD" end
  hit = planted_entry(env.LD_AUDIT, true)
  if hit then return hit, "LD_AUDIT" end
  v = env.LD_LIBRARY_PATH
  hit = planted_entry(v, false)
  if hit then return hit, "LD_LIBRARY_PATH" end
  -- a system program sent to a temporary directory for its libraries
  if v ~= nil and startswith_any(e.filename, SYSTEM_BIN_DIRS) then
    for entry in v:gmatch("[^:;]+") do
      if startswith_any(entry, TMP_DIRS) then return entry, "LD_LIBRARY_PATH" end
    end
  end
  return nil
end

rule {
  name = "library_preloaded_from_writable_place",
  desc = "A program was started with LD_PRELOAD or LD_AUDIT naming a library in a "
      .. "temporary or hidden directory or a file descriptor, or with LD_LIBRARY_PATH "
      .. "sending it (or a system program) to /dev/shm, a hidden or a temporary directory: "
      .. "dynamic linker hijacking with a library anyone could have planted",
  events = { "process.exec" },
  match = { ret = 0, ["env.LD_PRELOAD|env.LD_AUDIT|env.LD_LIBRARY_PATH"] = true },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1574.006" },
  when = function(e) return planted_preload(e) ~= nil end,
  output = "${filename} started with a planted library (LD_PRELOAD=${env.LD_PRELOAD} "
        .. "LD_AUDIT=${env.LD_AUDIT} LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}): ${argv} (pid "
        .. "${pid}, uid ${uid}, exe ${exe}, parent ${parent.comm} pid ${ppid} exe "
        .. "${parent.exe}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_PRELOAD = "/tmp/x/libhook.so" } }, expect = true,
      output = "/usr/bin/ls started with a planted library (LD_PRELOAD=/tmp/x/libhook.so "
            .. "LD_AUDIT=<NA> LD_LIBRARY_PATH=<NA>): ls (pid 1000, uid 0, exe <NA>, parent "
            .. "<NA> pid 1 exe <NA>, container <NA>, pod <NA>/<NA>)" },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id", argv = { "id" },
                env = { LD_PRELOAD = "libc.so.6 /dev/shm/k.so" } }, expect = true },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id", argv = { "id" },
                env = { LD_AUDIT = "/home/ann/.cache/a.so" } }, expect = true },
    { event = { type = "process.exec", comm = "id", filename = "/usr/bin/id", argv = { "id" },
                env = { LD_PRELOAD = "./hook.so" } }, expect = true },
    { event = { type = "process.exec", comm = "ssh", filename = "/usr/bin/ssh", argv = { "ssh" },
                env = { LD_LIBRARY_PATH = "/usr/lib:/dev/shm/l" } }, expect = true },
    { event = { type = "process.exec", comm = "sshd", filename = "/usr/sbin/sshd",
                argv = { "sshd" }, env = { LD_LIBRARY_PATH = "/tmp/lib" } }, expect = true },
    { event = { type = "process.exec", comm = "app", filename = "/opt/app/bin/app",
                argv = { "app" }, env = { LD_LIBRARY_PATH = "/tmp/.x" } }, expect = true },
    -- a build tree in /tmp running its own program (libtool's wrapper)
    { event = { type = "process.exec", comm = "calc", filename = "/tmp/build/src/.libs/calc",
                argv = { "calc" }, env = { LD_LIBRARY_PATH = "/tmp/build/src/.libs:" } },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_PRELOAD = "libc.so.6" } }, expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_PRELOAD = "/usr/lib/x86_64-linux-gnu/libfakeroot/libfakeroot-sysv.so" } },
      expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" },
                env = { LD_LIBRARY_PATH = "/opt/app/lib::/usr/local/lib" } }, expect = false },
    { event = { type = "process.exec", comm = "ls", filename = "/usr/bin/ls", argv = { "ls" } },
      expect = false },
  },
}

-- ------------------------------------------------------------ impairing defenses

local SECURITY_TOOLS = { "auditd", "auditbeat", "falco", "tapio", "osqueryd", "osquery",
                         "wazuh", "ossec", "sysdig", "tetragon", "tracee", "falcon-sensor",
                         "falcond", "sentinel", "cbagent", "cbdaemon", "clamd", "clamav",
                         "aide", "tripwire", "apparmor", "selinux", "fail2ban", "crowdstrike",
                         "qualys", "rsyslog", "syslog-ng", "systemd-journald", "filebeat",
                         "fluent-bit", "td-agent", "elastic-agent", "datadog-agent", "snoopy",
                         "firewalld", "ufw", "nftables", "iptables", "aa-", "rkhunter",
                         "chkrootkit", "lynis", "sshguard", "suricata", "snort", "zeek" }
local SERVICE_TOOLS = tapio.set { "systemctl", "service", "rc-service", "sv", "initctl",
                                  "update-rc.d", "chkconfig", "pkill", "killall", "kill",
                                  "pgrep" }
local STOP_VERBS = tapio.set { "stop", "disable", "mask", "kill", "--now", "-9", "-KILL",
                               "-SIGKILL", "-TERM", "-STOP", "remove", "off" }

local function names_security_tool(s)
  local l = s:lower()
  for _, t in ipairs(SECURITY_TOOLS) do
    if l:find(t, 1, true) then return t end
  end
  return nil
end

rule {
  name = "security_tool_disabled",
  desc = "A security or logging tool was stopped, disabled or killed (systemctl stop auditd, "
      .. "pkill falco, setenforce 0, aa-teardown, auditctl -e 0, ufw disable): blinding the "
      .. "defenders before acting",
  events = { "process.exec" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1562.001", "mitre:T1562.004", "mitre:T1562.012" },
  match = { ret = 0, filename_base = { "setenforce", "aa-teardown", "auditctl", "ufw", "systemctl",
                                       "service", "rc-service", "sv", "initctl", "update-rc.d",
                                       "chkconfig", "pkill", "killall", "kill" } },
  when = function(e)
    local name, argv = basename(e.filename), e.argv
    if name == "setenforce" then return argv[2] == "0" or argv[2] == "Permissive" end
    if name == "aa-teardown" then return true end
    if name == "auditctl" then
      for i = 2, #argv do
        if argv[i] == "-D" or (argv[i] == "-e" and argv[i + 1] == "0") then return true end
      end
      return false
    end
    if name == "ufw" then return argv[2] == "disable" end
    if not SERVICE_TOOLS[name] or name == "pgrep" then return false end
    local stop = name == "pkill" or name == "killall"
    local target = nil
    for i = 2, #argv do
      local a = argv[i]
      if STOP_VERBS[a] then stop = true
      elseif not startswith(a, "-") then target = target or names_security_tool(a) end
    end
    return stop and target ~= nil
  end,
  output = "security tool disabled: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "systemctl", filename = "/usr/bin/systemctl",
                argv = { "systemctl", "stop", "auditd.service" } }, expect = true },
    { event = { type = "process.exec", comm = "pkill", filename = "/usr/bin/pkill",
                argv = { "pkill", "-9", "falco" } }, expect = true },
    { event = { type = "process.exec", comm = "setenforce", filename = "/usr/sbin/setenforce",
                argv = { "setenforce", "0" } }, expect = true },
    { event = { type = "process.exec", comm = "systemctl", filename = "/usr/bin/systemctl",
                argv = { "systemctl", "status", "auditd" } }, expect = false },
    { event = { type = "process.exec", comm = "systemctl", filename = "/usr/bin/systemctl",
                argv = { "systemctl", "restart", "nginx" } }, expect = false },
  },
}

-- Kernel settings that make exploitation and hiding harder.
local HARDENING = tapio.set {
  "/proc/sys/kernel/randomize_va_space", "/proc/sys/kernel/yama/ptrace_scope",
  "/proc/sys/kernel/kptr_restrict", "/proc/sys/kernel/dmesg_restrict",
  "/proc/sys/kernel/perf_event_paranoid", "/proc/sys/kernel/unprivileged_bpf_disabled",
  "/proc/sys/kernel/kexec_load_disabled", "/proc/sys/kernel/modules_disabled",
  "/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/net/core/bpf_jit_harden",
  "/proc/sys/fs/protected_symlinks", "/proc/sys/fs/protected_hardlinks",
  "/proc/sys/fs/protected_fifos", "/proc/sys/fs/protected_regular", "/proc/sys/fs/suid_dumpable",
  "/proc/sys/kernel/sysrq", "/sys/fs/selinux/enforce", "/proc/sys/vm/mmap_min_addr",
  "/sys/kernel/security/apparmor/.remove",
}
local SYSCTL_AT_BOOT = tapio.set { "systemd-sysctl", "tuned", "cloud-init" }

rule {
  name = "kernel_hardening_changed",
  desc = "A kernel hardening setting was written (ASLR, ptrace scope, kptr/dmesg restrict, "
      .. "unprivileged BPF, protected links, SELinux enforce...) outside boot: weakening "
      .. "the kernel before an exploit or to hide",
  events = { "file.open" },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1562.001", "mitre:T1562" },
  match = { flags = { any = "O_WRONLY|O_RDWR" }, path = HARDENING },
  when = function(e)
    return e.ret >= 0 and (e.flags & O_ACCMODE) ~= 0 and HARDENING[e.path] ~= nil
        and not SYSCTL_AT_BOOT[e.comm]
  end,
  output = "${path} written by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent "
        .. "${parent.comm} pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}): "
        .. "${argv}",
  tests = {
    { event = { type = "file.open", comm = "sysctl", path = "/proc/sys/kernel/randomize_va_space",
                flags = 1 }, expect = true },
    { event = { type = "file.open", comm = "bash", path = "/proc/sys/kernel/yama/ptrace_scope",
                flags = 577 }, expect = true },
    { event = { type = "file.open", comm = "cat", path = "/proc/sys/kernel/randomize_va_space",
                flags = 0 }, expect = false },
    { event = { type = "file.open", comm = "systemd-sysctl",
                path = "/proc/sys/kernel/kptr_restrict", flags = 1 }, expect = false },
  },
}

rule {
  name = "file_made_immutable",
  desc = "chattr made a file immutable or append-only: attackers lock their backdoors and "
      .. "planted keys so that they cannot be removed",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1222.002", "mitre:T1564" },
  match = { ret = 0, filename_base = "chattr" },
  when = function(e)
    if e.ret ~= 0 or basename(e.filename) ~= "chattr" then return false end
    for i = 2, #e.argv do
      local a = e.argv[i]
      if a:find("^[+=]%a*[ia]") then return true end
    end
    return false
  end,
  output = "immutable or append-only set: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "chattr", filename = "/usr/bin/chattr",
                argv = { "chattr", "+i", "/root/.ssh/authorized_keys" } }, expect = true },
    { event = { type = "process.exec", comm = "chattr", filename = "/usr/bin/chattr",
                argv = { "chattr", "-R", "+ia", "/etc/cron.d" } }, expect = true },
    { event = { type = "process.exec", comm = "chattr", filename = "/usr/bin/chattr",
                argv = { "chattr", "-i", "/etc/resolv.conf" } }, expect = false },
  },
}

local MODULE_TOOL_NAMES = { "insmod", "modprobe", "kmod" }
local MODULE_TOOLS = tapio.set(MODULE_TOOL_NAMES)

rule {
  name = "kernel_module_load_attempted",
  desc = "insmod or modprobe was run to load a module from a file (a path or a .ko): how "
      .. "rootkits get into the kernel (reported even where the load fails)",
  events = { "process.exec" },
  severity = "warning",
  importance = 0.85,
  tags = { "mitre:T1547.006", "mitre:T1014" },
  match = { ret = 0, filename_base = MODULE_TOOL_NAMES },
  when = function(e)
    if e.ret ~= 0 or not MODULE_TOOLS[basename(e.filename)] then return false end
    local argv = e.argv
    for i = 2, #argv do
      local a = argv[i]
      if a == "-r" or a == "--remove" then return false end
      if not startswith(a, "-") and (a:find("/", 1, true) or a:find("%.ko[%.%a]*$")) then
        return not startswith(a, "/lib/modules/") and not startswith(a, "/usr/lib/modules/")
      end
    end
    return false
  end,
  output = "kernel module load: ${argv} (pid ${pid}, uid ${uid}, parent ${parent.comm} pid "
        .. "${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod})",
  tests = {
    { event = { type = "process.exec", comm = "insmod", filename = "/sbin/insmod",
                argv = { "insmod", "/tmp/diamorphine.ko" } }, expect = true },
    { event = { type = "process.exec", comm = "modprobe", filename = "/sbin/modprobe",
                argv = { "modprobe", "-q", "--", "net-pf-10" } }, expect = false },
    { event = { type = "process.exec", comm = "insmod", filename = "/sbin/insmod",
                argv = { "insmod", "/lib/modules/6.1.0/kernel/fs/x.ko" } }, expect = false },
  },
}

-- ------------------------------------------------------------ io_uring
-- Operations submitted through an io_uring ring pass no syscall hook: an
-- open, connect or rename done that way is invisible to the file and
-- network events, to seccomp filters and to every tool that hooks
-- syscalls ("curing"-style rootkits). The kernel's security.io_uring sees
-- each request at submission; these rules watch who sets rings up and
-- what they are asked to open or reach. IO_URING_USERS (rules/lib/lists.lua)
-- lists the programs that use io_uring for their ordinary I/O: append()
-- your own.

local function dropped_or_odd_exe(exe)
  return exe == nil or not tapio.startswith_any(exe, SYSTEM_BIN_DIRS)
end

rule {
  name = "io_uring_set_up_by_unexpected_program",
  desc = "A program that is not a known io_uring user set up an io_uring ring: its file and "
      .. "network operations can now bypass every syscall hook (seccomp, audit, tracers)",
  events = { "security.io_uring_setup" },
  severity = "warning",
  importance = 0.75,
  tags = { "mitre:T1562.001", "mitre:T1014", "mitre:T1106" },
  state = { seen = tapio.map { ttl = "1h" } }, -- one alert per process
  when = function(e, s)
    if e.ret < 0 or (IO_URING_USERS[e.comm] and not dropped_or_odd_exe(e.exe)) then
      return false
    end
    if s.seen:get(e) then return false end
    s.seen:set(e, true)
    return true
  end,
  output = "io_uring ring set up (${entries} entries, flags ${flags_str|flags}) by ${comm} "
        .. "(pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}]); container "
        .. "${container.id|'host'}, pod ${k8s.namespace|'-'}/${k8s.pod|'-'}; command: ${argv|'?'}",
  tests = {
    { event = { type = "security.io_uring_setup", comm = "kworker", exe = "/tmp/.k/kworker",
                entries = 8, flags = 2, ret = 3, argv = { "kworker" } },
      expect = true,
      output = "io_uring ring set up (8 entries, flags IORING_SETUP_SQPOLL) by kworker (pid "
            .. "1000, uid 0, exe /tmp/.k/kworker, parent ?[1]); container host, pod -/-; "
            .. "command: kworker" },
    { event = { type = "security.io_uring_setup", comm = "python3", exe = "/usr/bin/python3",
                entries = 8, ret = 3 }, expect = true },
    { event = { type = "security.io_uring_setup", comm = "fio", exe = "/usr/bin/fio",
                entries = 64, ret = 3 }, expect = false },
    -- a known user's name on a binary elsewhere is no known user
    { event = { type = "security.io_uring_setup", comm = "fio", exe = "/dev/shm/fio",
                entries = 64, ret = 3 }, expect = true },
    { event = { type = "security.io_uring_setup", comm = "x", entries = 8, ret = -1 },
      expect = false },
  },
}

-- Files whose reading or changing through a ring is the point of hiding it.
local URING_SENSITIVE = { "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ld.so.preload",
                          "/etc/passwd", "/etc/pam.d/", "/etc/cron", "/var/spool/cron/",
                          "/etc/systemd/system/", "/root/.ssh/", "/etc/ssh/ssh_host_",
                          "/etc/security/opasswd", "/etc/ssl/private/", "/root/.aws/",
                          "/root/.kube/", "/root/.bash_history", "/etc/profile",
                          "/root/.bashrc", "/etc/bash.bashrc", "/etc/rc.local" }
local URING_SENSITIVE_NAMES = tapio.set { "shadow", "gshadow", "sudoers", "ld.so.preload",
                                          "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
                                          "authorized_keys", "credentials", ".bash_history",
                                          "crontab", "opasswd", "known_hosts" }
local URING_PATH_OPS = tapio.set { "IORING_OP_OPENAT", "IORING_OP_OPENAT2", "IORING_OP_RENAMEAT",
                                   "IORING_OP_UNLINKAT", "IORING_OP_LINKAT",
                                   "IORING_OP_SYMLINKAT", "IORING_OP_SETXATTR",
                                   "IORING_OP_GETXATTR", "IORING_OP_STATX", "IORING_OP_MKDIRAT" }

local function uring_sensitive(p)
  if p == nil or p == "" then return nil end
  if p:sub(1, 1) == "/" then
    if tapio.startswith_any(p, URING_SENSITIVE) or p:find("/.ssh/", 1, true)
        or p:find("/.aws/", 1, true) or p:find("/.kube/", 1, true) or p:find("/.gnupg/", 1, true)
        or (tapio.startswith(p, "/proc/") and (tapio.endswith(p, "/mem")
                                               or tapio.endswith(p, "/environ"))) then
      return p
    end
    return nil
  end
  -- relative to a directory descriptor: judge by the name
  return URING_SENSITIVE_NAMES[basename(p)] and p or nil
end

rule {
  name = "io_uring_sensitive_file_access",
  desc = "A credential, account, key or persistence file (shadow, sudoers, ssh keys, "
      .. "ld.so.preload, cron, /proc/PID/mem...) was opened, renamed, linked or removed through "
      .. "io_uring: the operation passes no syscall hook, the way rootkits and stealthy "
      .. "stealers hide file access",
  events = { "security.io_uring" },
  severity = "critical",
  importance = 0.95,
  tags = { "mitre:T1562.001", "mitre:T1003.008", "mitre:T1552.004", "mitre:T1014" },
  when = function(e)
    if not URING_PATH_OPS[e.op_str] then return false end
    return (uring_sensitive(e.path) or uring_sensitive(e.path2)) ~= nil
  end,
  output = "${op_str} of ${path} (second path ${path2|'-'}, dfd ${dfd}, flags ${op_flags}) through "
        .. "io_uring by "
        .. "${comm} (pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}], "
        .. "kernel thread ${sq_thread}); container ${container.id|'host'}, pod "
        .. "${k8s.namespace|'-'}/${k8s.pod|'-'}; command: ${argv|'?'}",
  tests = {
    { event = { type = "security.io_uring", comm = "x", exe = "/tmp/x", op = 18,
                path = "/etc/shadow", dfd = -100, argv = { "./x" } },
      expect = true,
      output = "IORING_OP_OPENAT of /etc/shadow (second path -, dfd -100, flags 0) through "
            .. "io_uring by x "
            .. "(pid 1000, uid 0, exe /tmp/x, parent ?[1], kernel thread false); container "
            .. "host, pod -/-; command: ./x" },
    { event = { type = "security.io_uring", comm = "x", op = 28, path = "/home/a/.ssh/id_ed25519" },
      expect = true },
    { event = { type = "security.io_uring", comm = "x", op = 18, path = "shadow", dfd = 3 },
      expect = true },
    { event = { type = "security.io_uring", comm = "x", op = 35, path = "/tmp/p",
                path2 = "/etc/ld.so.preload" }, expect = true },
    { event = { type = "security.io_uring", comm = "fio", op = 18, path = "/data/fio.0" },
      expect = false },
    { event = { type = "security.io_uring", comm = "x", op = 18, path = "/etc/hostname" },
      expect = false },
    { event = { type = "security.io_uring", comm = "x", op = 22, fd = 3 }, expect = false },
  },
}

rule {
  name = "io_uring_network_connection",
  desc = "A program that is not a known io_uring user connected a socket through io_uring "
      .. "(IORING_OP_CONNECT): a connection no connect hook, firewall-by-seccomp or "
      .. "network event sees, the way a stealthy implant calls home",
  events = { "security.io_uring" },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1562.001", "mitre:T1071", "mitre:T1095" },
  when = function(e)
    if e.op_str ~= "IORING_OP_CONNECT" or (e.family ~= 2 and e.family ~= 10) then
      return false
    end
    return not (IO_URING_USERS[e.comm] and not dropped_or_odd_exe(e.exe))
  end,
  output = "connection to ${addr}:${port} through io_uring (IORING_OP_CONNECT) by ${comm} "
        .. "(pid ${pid}, uid ${uid}, exe ${exe|'?'}, parent ${parent.comm|'?'}[${ppid}]); "
        .. "container ${container.id|'host'}, pod ${k8s.namespace|'-'}/${k8s.pod|'-'}; "
        .. "command: ${argv|'?'}",
  tests = {
    { event = { type = "security.io_uring", comm = "x", exe = "/tmp/x", op = 16, family = 2,
                addr = "203.0.113.5", port = 443, argv = { "./x" } },
      expect = true,
      output = "connection to 203.0.113.5:443 through io_uring (IORING_OP_CONNECT) by x (pid "
            .. "1000, uid 0, exe /tmp/x, parent ?[1]); container host, pod -/-; command: ./x" },
    { event = { type = "security.io_uring", comm = "python3", op = 16, family = 10,
                addr = "::1", port = 8080 }, expect = true },
    { event = { type = "security.io_uring", comm = "x", op = 16, family = 1 }, expect = false },
    { event = { type = "security.io_uring", comm = "nginx", exe = "/usr/sbin/nginx", op = 16,
                family = 2, addr = "10.0.0.2", port = 8080 }, expect = false },
    { event = { type = "security.io_uring", comm = "x", op = 18, path = "/etc/hostname" },
      expect = false },
  },
}

-- ------------------------------------------------------------ decoded and piped

-- A decoder run to decode: base64 -d, xxd -r, openssl ... -d, rev, gunzip,
-- tr with a rot13 table.
local function decoding(e, name)
  if not DECODERS[name] then return false end
  if name == "rev" or name == "uudecode" or name:find("z") or name:find("^bun") then
    return true
  end
  local c = e.cmdline
  if name == "xxd" then return c:find(" %-[a-z]*r") ~= nil end
  if name == "tr" then return contains(c, "N-ZA-M") or contains(c, "n-za-m") end
  return c:find(" %-d") ~= nil or c:find(" %-%-decode") ~= nil or c:find(" %-D") ~= nil
end

rule {
  name = "decoded_payload_piped_to_shell",
  desc = "A decoder (base64 -d, xxd -r, openssl enc -d, rev, gunzip...) and a shell or "
      .. "interpreter reading its program from its input were joined by a pipe (or started "
      .. "together by one parent): `echo ... | base64 -d | sh` typed into a shell, where no "
      .. "command line shows the pipe",
  events = { "process.exec", "process.exit" },
  -- execs: the pipe's two ends (pipeline_pair: a decoder, or a shell or
  -- interpreter that may read its program from its input)
  match = { ["process.exec"] = { ret = 0, one_of = { { filename_base = DECODERS },
                                                     { filename_base = LISTED_SHELLS },
                                                     -- an interpreter reads its input
                                                     -- only with no operand first
                                                     { filename_base = INTERPRETER_PREFIXES,
                                                       ["argv[2]"] = "-*" },
                                                     { filename_base = INTERPRETER_PREFIXES,
                                                       ["argv[2]"] = false } } } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1140", "mitre:T1027", "mitre:T1059.004" },
  -- parent -> the pid of its running decoder / program reader
  state = { src = tapio.map { ttl = "10m" }, run = tapio.map { ttl = "10m" },
            ended = tapio.map { ttl = "10m" }, member = tapio.map { ttl = "10m" },
            pipe = tapio.map { ttl = "10m" } },
  recall = { ["process.exit"] = "member" },
  when = function(e, s) return pipeline_pair(e, s, decoding) end,
  output = "${filename} (${argv}) started beside a decoder's pipe by ${parent.comm} (pid "
        .. "${ppid}, exe ${parent.exe}); pid ${pid}, uid ${uid}, container ${container.id}, "
        .. "pod ${k8s.namespace}/${k8s.pod}",
  tests = {
    -- base64 done before sh's exec, but sh was forked while it ran (started:
    -- long before, 1 ns into the epoch): one pipeline
    { events = { { type = "process.exec", comm = "base64", pid = 120, ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "-d" } },
                 { type = "process.exit", comm = "base64", pid = 120, ppid = 70 },
                 { type = "process.exec", comm = "sh", pid = 121, ppid = 70, filename = "/bin/sh",
                   argv = { "sh" }, started = 1 } }, expect = 3 },
    -- on a loaded machine the shell may be forked after the decoder exited:
    -- the pipe between them still proves the pipeline
    { events = { { type = "process.exec", comm = "base64", pid = 120, ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "-d" }, stdout_pipe = 900 },
                 { type = "process.exit", comm = "base64", pid = 120, ppid = 70 },
                 { type = "process.exec", comm = "sh", pid = 121, ppid = 70, filename = "/bin/sh",
                   argv = { "sh" }, stdin_pipe = 900, started = math.maxinteger } }, expect = 3 },
    -- the same order on two other pipes: two pipelines, not one
    { events = { { type = "process.exec", comm = "base64", pid = 120, ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "-d" }, stdout_pipe = 900 },
                 { type = "process.exit", comm = "base64", pid = 120, ppid = 70 },
                 { type = "process.exec", comm = "sh", pid = 121, ppid = 70, filename = "/bin/sh",
                   argv = { "sh" }, stdin_pipe = 901, started = math.maxinteger } },
      expect = false },
    -- one after the other: `base64 -d x > y; sh` (sh forked after base64 ended)
    { events = { { type = "process.exec", comm = "base64", pid = 120, ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "-d", "x" } },
                 { type = "process.exit", comm = "base64", pid = 120, ppid = 70 },
                 { type = "process.exec", comm = "sh", pid = 121, ppid = 70, filename = "/bin/sh",
                   argv = { "sh" }, started = math.maxinteger } }, expect = false },
    { events = { { type = "process.exec", pid = 101, comm = "base64", ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "-d" } },
                 { type = "process.exec", pid = 102, comm = "bash", ppid = 70,
                   filename = "/bin/bash",
                   argv = { "bash" } } }, expect = 2 },
    { events = { { type = "process.exec", pid = 103, comm = "python3", ppid = 70,
                   filename = "/usr/bin/python3", argv = { "python3" } },
                 { type = "process.exec", pid = 104, comm = "xxd", ppid = 70,
                   filename = "/usr/bin/xxd",
                   argv = { "xxd", "-r", "-p" } } }, expect = 2 },
    { events = { { type = "process.exec", pid = 105, comm = "tr", ppid = 70,
                   filename = "/usr/bin/tr",
                   argv = { "tr", "A-Za-z", "N-ZA-Mn-za-m" } },
                 { type = "process.exec", pid = 106, comm = "sh", ppid = 70, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = 2 },
    { events = { { type = "process.exec", pid = 107, comm = "tr", ppid = 70,
                   filename = "/usr/bin/tr",
                   argv = { "tr", "a-z", "A-Z" } },
                 { type = "process.exec", pid = 108, comm = "sh", ppid = 70, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = false },
    { events = { { type = "process.exec", pid = 109, comm = "base64", ppid = 70,
                   filename = "/usr/bin/base64", argv = { "base64", "key" } },
                 { type = "process.exec", pid = 110, comm = "sh", ppid = 70, filename = "/bin/sh",
                   argv = { "sh" } } }, expect = false },
  },
}

-- ------------------------------------------------------------ agents killed

local KILL_SIGNALS = tapio.set { 2, 3, 6, 9, 15, 19 } -- INT QUIT ABRT KILL TERM STOP

rule {
  name = "security_agent_killed",
  desc = "A security or logging agent (auditd, falco, osquery, an EDR, rsyslog...) was sent "
      .. "a signal that stops it, by anything but its own service manager",
  events = { "process.exec", "security.kill" },
  match = { ["process.exec"] = { ret = 0, filename_base = SECURITY_AGENTS },
            ["security.kill"] = { ret = 0 } },
  severity = "error",
  importance = 0.9,
  tags = { "mitre:T1562.001" },
  -- Agents are remembered from their start (processes started before the
  -- collector are not known by name here).
  state = { agents = tapio.map { ttl = "30d" } },
  when = function(e, s)
    if e.type == "process.exec" then
      local name = basename(e.filename)
      if e.ret == 0 and SECURITY_AGENTS[name] then s.agents:set(e, name) end
      return false
    end
    if e.ret ~= 0 or KILL_SIGNALS[e.sig] == nil or e.target_pid == e.pid then return false end
    local agent = s.agents:get(tapio.process(e.target_pid))
    -- an agent stopping its own workers (osqueryd's watchdog) is not an attack
    return agent ~= nil and agent ~= e.comm
  end,
  output = "security agent pid ${target_pid} sent ${sig_str} by ${comm} (pid ${pid}, exe ${exe}, "
        .. "uid ${uid}, parent ${parent.comm} pid ${ppid}, container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { events = { { type = "process.exec", comm = "auditd", pid = 300,
                   filename = "/sbin/auditd", argv = { "auditd" } },
                 { type = "security.kill", comm = "kill", pid = 301, sig = 9, target_pid = 300 } },
      expect = 2 },
    { events = { { type = "process.exec", comm = "nginx", pid = 300,
                   filename = "/usr/sbin/nginx", argv = { "nginx" } },
                 { type = "security.kill", comm = "kill", pid = 301, sig = 15, target_pid = 300 } },
      expect = false },
    { events = { { type = "process.exec", comm = "auditd", pid = 300,
                   filename = "/sbin/auditd", argv = { "auditd" } },
                 { type = "security.kill", comm = "kill", pid = 301, sig = 1, target_pid = 300 } },
      expect = false },
    { events = { { type = "process.exec", comm = "falco", pid = 300,
                   filename = "/usr/bin/falco", argv = { "falco" } },
                 { type = "security.kill", comm = "systemd", pid = 1, sig = 15, target_pid = 300 } },
      expect = false },
    { events = { { type = "process.exec", comm = "osqueryd", pid = 300,
                   filename = "/opt/osquery/bin/osqueryd", argv = { "osqueryd" } },
                 { type = "security.kill", comm = "osqueryd", pid = 299, sig = 9,
                   target_pid = 300 } }, expect = false },
  },
}

-- Service managers and container runtimes stop and restart agents.
exception { rule = "security_agent_killed", comm = { "systemd", "init" },
            reason = "service manager" }
exception { rule = "security_agent_killed", comm = CONTAINER_RUNTIMES,
            reason = "container runtime" }

-- ------------------------------------------------------------ self-deletion

-- Shells and interpreters (python3.11 as python): their first operand is
-- the script they run.
local function runs_scripts(name)
  return SHELLS[name] or INTERPRETERS[name] or INTERPRETERS[name:match("^(%a+)") or ""]
end

-- An argument that runs_scripts would take, as its basename or its whole
-- (the interpreter of a #! script is argv[1]: "/bin/sh", "python3"), for
-- a match: as SHELLS and INTERPRETER_PREFIXES stand when this file loads.
local RUNNER_ARGS = (function()
  local t = {}
  for _, n in ipairs(SHELL_NAMES) do t[#t + 1] = n; t[#t + 1] = "*/" .. n end
  for _, g in ipairs(INTERPRETER_PREFIXES) do t[#t + 1] = g; t[#t + 1] = "*/" .. g end
  return t
end)()

rule {
  name = "running_program_deleted_itself",
  desc = "A running program deleted its own file, or a script had itself deleted (rm \"$0\"): "
      .. "removing the evidence while it keeps running",
  events = { "process.exec", "file.unlink" },
  -- execs: of a script runner, or with one in argv (a #! script's): the
  -- only ones when keeps
  match = { ["process.exec"] = { ret = 0, one_of = { { filename_base = SHELL_NAMES },
                                                     { filename_base = INTERPRETERS },
                                                     { filename_base = INTERPRETER_PREFIXES },
                                                     { argv = RUNNER_ARGS } } },
            -- a failed unlink (rm -f of a file not there) deletes nothing
            ["file.unlink"] = { ret = 0 } },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.004" },
  -- scripts: the script each shell or interpreter runs, by process;
  -- script_names: the same names, for the engine to look unlinks up by
  state = { scripts = tapio.map { ttl = "1d" }, script_names = tapio.map { ttl = "1d" } },
  -- an unlink reaches when only when it deletes a script's name that ran,
  -- or the unlinking program's own name
  recall = { ["file.unlink"] = { script_names = "path_base", exe_base = "path_base" } },
  when = function(e, s)
    if e.type == "process.exec" then
      -- remember the script a shell or interpreter runs: the file exec'd
      -- when the kernel started its #! interpreter (argv then starts with
      -- the interpreter: /bin/sh ./x.sh), else its first operand
      if e.ret ~= 0 then return false end
      local argv = e.argv
      local name, run = basename(e.filename), basename(argv[1] or "")
      local script
      if name ~= run and runs_scripts(run) and not runs_scripts(name) then
        script = name
      elseif runs_scripts(name) then
        for i = 2, #argv do
          local a = argv[i]
          if a == "-c" or a == "-e" or a == "-m" then break end
          if not startswith(a, "-") then
            script = basename(a)
            break
          end
        end
      end
      if script ~= nil then
        s.scripts:set(e, script)
        s.script_names:set(script, true)
      end
      return false
    end
    if e.ret ~= 0 or (e.flags & 0x200) ~= 0 then return false end -- failed, or rmdir
    local gone, exe = basename(e.path), e.exe
    if exe ~= nil and gone == basename(exe) and not SHELLS[gone] and not INTERPRETERS[gone]
        and (exe == e.path or not startswith(exe, "/")) then
      return true -- a binary unlinking its own file
    end
    return gone ~= nil and (s.scripts:get(e) == gone
        or s.scripts:get(tapio.process(e.ppid)) == gone)
  end,
  output = "${path} deleted while it runs, by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, "
        .. "parent ${parent.comm} pid ${ppid}, container ${container.id}, pod "
        .. "${k8s.namespace}/${k8s.pod}): ${argv}",
  tests = {
    { event = { type = "file.unlink", comm = "implant", exe = "/tmp/implant",
                path = "/tmp/implant" }, expect = true },
    { event = { type = "file.unlink", comm = "implant", exe = "/tmp/implant",
                path = "/tmp/implant", ret = -2 }, expect = false },
    { events = { { type = "process.exec", comm = "bash", pid = 80, filename = "/bin/bash",
                   argv = { "bash", "/tmp/x.sh" } },
                 { type = "file.unlink", comm = "rm", pid = 81, ppid = 80, exe = "/usr/bin/rm",
                   path = "/tmp/x.sh" } }, expect = 2 },
    -- ./x.sh run through its #!/bin/sh line
    { events = { { type = "process.exec", comm = "x.sh", pid = 80, filename = "./x.sh",
                   exe = "./x.sh", argv = { "/bin/sh", "./x.sh" } },
                 { type = "file.unlink", comm = "rm", pid = 81, ppid = 80, exe = "/usr/bin/rm",
                   path = "./x.sh" } }, expect = 2 },
    { event = { type = "file.unlink", comm = "rm", exe = "/usr/bin/rm", path = "/tmp/a" },
      expect = false },
    { event = { type = "file.unlink", comm = "dpkg", exe = "/usr/bin/dpkg",
                path = "/usr/bin/ls" }, expect = false },
    { event = { type = "file.unlink", comm = "dpkg", exe = "/usr/bin/dpkg",
                path = "/usr/bin/dpkg" }, expect = false },
    { events = { { type = "process.exec", comm = "pip", pid = 90, filename = "/usr/bin/pip",
                   exe = "/usr/bin/pip", argv = { "/usr/bin/python3", "/usr/bin/pip" } },
                 { type = "file.unlink", comm = "pip", pid = 90, exe = "/usr/bin/pip",
                   path = "/usr/bin/pip" } }, expect = false },
  },
}

-- Package managers replace and remove their own programs (dpkg upgrading
-- dpkg, pip install -U pip).
exception { rule = "running_program_deleted_itself", comm = PACKAGE_MANAGERS,
            reason = "package manager" }
exception { rule = "running_program_deleted_itself", ancestor = PACKAGE_MANAGERS,
            reason = "package manager's scripts" }

-- Where programs are installed: deleting one of them while it runs is an
-- upgrade, not a cover-up.
local INSTALLED_DIRS = { "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", "/snap/",
                         "/nix/store/" }

rule {
  name = "running_program_file_deleted",
  desc = "The file of a program that is still running (outside the system's directories) was "
      .. "deleted by another process: a dropper starting its payload and removing it (`./x & "
      .. "rm x`), so that only the process in memory is left",
  events = { "process.exec", "file.unlink" },
  match = { ret = 0 },
  severity = "warning",
  importance = 0.8,
  tags = { "mitre:T1070.004", "mitre:T1620" },
  -- by_path: the program's path -> its pid; by_name: for a program run by
  -- a relative name (./x: the exec has no directory), its name -> "pid
  -- ppid"; by_proc: the process -> its key (dropped when it exits, so only
  -- live processes count)
  state = { by_path = tapio.map { ttl = "1d" }, by_name = tapio.map { ttl = "1d" },
            by_proc = tapio.map { ttl = "1d" } },
  -- an unlink reaches when only when its path, or its file's name, was
  -- run: most deleted files never were (checked in C, no Lua call)
  recall = { ["file.unlink"] = { by_path = "path", by_name = "path_base" } },
  when = function(e, s)
    if e.type == "process.exec" then
      local f = e.filename
      if f == nil or e.exe_memfd or startswith_any(f, INSTALLED_DIRS) then return false end
      if startswith(f, "/") then
        s.by_path:set(f, e.pid)
        s.by_proc:set(e, f)
      else
        local name = basename(f)
        s.by_name:set(name, e.pid .. " " .. e.ppid)
        s.by_proc:set(e, "./" .. name)
      end
      return false
    end
    if (e.flags & 0x200) ~= 0 then return false end -- rmdir
    local path = e.path
    local pid = s.by_path:get(path)
    if pid ~= nil then
      return pid ~= e.pid and s.by_proc:get(tapio.process(pid)) == path
    end
    -- a relative name: the same name, deleted by the program's parent or a
    -- sibling (the shell that started it, or its next command)
    local name = basename(path)
    local v = name and s.by_name:get(name)
    if v == nil then return false end
    local p, pp = v:match("^(%d+) (%d+)$")
    p, pp = tonumber(p), tonumber(pp)
    return p ~= e.pid and (e.pid == pp or e.ppid == pp)
        and s.by_proc:get(tapio.process(p)) == "./" .. name
  end,
  output = "${path} deleted by ${comm} (pid ${pid}, exe ${exe}, uid ${uid}, parent ${parent.comm} "
        .. "pid ${ppid}, container ${container.id}, pod ${k8s.namespace}/${k8s.pod}) while the "
        .. "program runs: ${argv}",
  tests = {
    { events = { { type = "process.exec", comm = "payload", pid = 300, ppid = 299,
                   filename = "/tmp/d/payload", argv = { "/tmp/d/payload" } },
                 { type = "file.unlink", comm = "rm", pid = 301, ppid = 299, exe = "/usr/bin/rm",
                   path = "/tmp/d/payload", argv = { "rm", "-f", "/tmp/d/payload" } } },
      expect = 2,
      output = "/tmp/d/payload deleted by rm (pid 301, exe /usr/bin/rm, uid 0, parent <NA> pid "
            .. "299, container <NA>, pod <NA>/<NA>) while the program runs: rm -f /tmp/d/payload" },
    -- ./payload & rm payload
    { events = { { type = "process.exec", comm = "payload", pid = 300, ppid = 299,
                   filename = "./payload", argv = { "./payload" } },
                 { type = "file.unlink", comm = "rm", pid = 301, ppid = 299,
                   path = "/home/a/payload" } }, expect = 2 },
    -- python's Popen("./stage") then os.unlink("stage") in the parent
    { events = { { type = "process.exec", comm = "stage", pid = 300, ppid = 299,
                   filename = "./stage", argv = { "./stage" } },
                 { type = "file.unlink", comm = "python3", pid = 299, ppid = 200,
                   path = "/tmp/w/stage" } }, expect = 2 },
    -- the same name deleted by an unrelated process
    { events = { { type = "process.exec", comm = "t", pid = 300, ppid = 299, filename = "./t",
                   argv = { "./t" } },
                 { type = "file.unlink", comm = "rm", pid = 401, ppid = 400, path = "/srv/t" } },
      expect = false },
    -- another file of the build tree (a program's keys go when it exits)
    { events = { { type = "process.exec", comm = "t", pid = 300, filename = "/tmp/b/t",
                   argv = { "/tmp/b/t" } },
                 { type = "file.unlink", comm = "rm", pid = 301, path = "/tmp/b/t.o" } },
      expect = false },
    -- an upgrade replacing an installed program
    { events = { { type = "process.exec", comm = "nginx", pid = 300, filename = "/usr/sbin/nginx",
                   argv = { "nginx" } },
                 { type = "file.unlink", comm = "dpkg", pid = 301, path = "/usr/sbin/nginx" } },
      expect = false },
    -- the program deleting itself is running_program_deleted_itself
    { events = { { type = "process.exec", comm = "x", pid = 300, filename = "/tmp/x",
                   argv = { "/tmp/x" } },
                 { type = "file.unlink", comm = "x", pid = 300, path = "/tmp/x" } },
      expect = false },
  },
}

-- A program run from the system's directories is no dropper's payload
-- (when would keep nothing of it): its execs never reach Lua.
local INSTALLED_GLOBS = {}
for _, d in ipairs(INSTALLED_DIRS) do INSTALLED_GLOBS[#INSTALLED_GLOBS + 1] = d .. "*" end
exception { rule = "running_program_file_deleted", filename = INSTALLED_GLOBS,
            reason = "a program installed in the system's directories" }

exception { rule = "running_program_file_deleted", ancestor = PACKAGE_MANAGERS,
            reason = "package manager replacing programs" }
