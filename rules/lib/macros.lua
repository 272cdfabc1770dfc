-- Macros: small functions every rule file can call by name. Loaded before
-- any rule file, after lists.lua. Redefine one in a file of your own to
-- change it for every rule: macro("is_container", function(e) ... end).

local O_ACCMODE, O_CREAT, O_TRUNC = 3, 64, 512

-- The event comes from a process inside a container.
macro("is_container", function(e)
  local c = e.container
  return c ~= nil and c.id ~= nil
end)

-- The event comes from a pod (Kubernetes).
macro("in_k8s", function(e)
  local k = e.k8s
  return k ~= nil and k.pod ~= nil
end)

-- The process is a shell (by its comm).
macro("is_shell", function(e)
  return SHELLS[e.comm] == true
end)

-- The parent process is a shell.
macro("parent_is_shell", function(e)
  local p = e.parent
  return p ~= nil and SHELLS[p.comm] == true
end)

-- A file.open that can change the file: opened for writing, created or
-- truncated (and it succeeded).
macro("opened_for_writing", function(e)
  if e.type ~= "file.open" or e.ret < 0 then return false end
  return (e.flags & O_ACCMODE) ~= 0 or (e.flags & (O_CREAT | O_TRUNC)) ~= 0
end)

-- A path under a directory anyone can write to.
macro("in_tmp_dir", function(path)
  return tapio.startswith_any(path, TMP_DIRS)
end)

-- Whether a program is, by its file name, a shell ("bash", "/bin/sh").
local function shell_name(name)
  return name ~= nil and SHELLS[tapio.basename(name)] == true
end

-- Tokens a -c command may add to a bare shell and stay interactive:
-- options, and redirections of its standard streams (to a socket fd, a
-- /dev/tcp path...).
local function shell_word_ok(tok)
  return tok:find("^[-+]%a+$") ~= nil or tok:find("^%-%-%a+$") ~= nil
      or tok:find("^%d*[<>]") ~= nil or tok:find("^&?%d+$") ~= nil
      or tapio.startswith(tok, "/dev/") or tok == ";" or tok == "&" or tok == "exec"
end

-- A -c command that only starts a shell: "/bin/sh", "exec bash -i 2>&1",
-- "/bin/sh -c '/bin/sh -i'" (less and man wrap a command in $SHELL -c).
macro("command_is_shell", function(cmd)
  local first = true
  for w in cmd:gmatch("[^%s;'\"]+") do
    if first then
      if w ~= "exec" then
        if not shell_name(w) then return false end
        first = false
      end
    elseif not (shell_word_ok(w) or shell_name(w)) then
      return false
    end
  end
  return not first
end)

-- An exec of a shell that reads its commands from its input (a person, a
-- pipe, a socket), not from a script: no operand, -i, -s, or -c whose
-- command only starts such a shell. `sh -c "make all"` and `sh x.sh` are
-- not. busybox counts when its applet is a shell.
macro("interactive_shell", function(e)
  if e.ret ~= 0 then return false end
  local name = tapio.basename(e.filename)
  if not SHELLS[name] then return false end
  local argv = e.argv
  if argv == nil then return false end
  local i = 2
  if name == "busybox" then
    if not SHELLS[argv[2] or ""] then return false end
    i = 3
  end
  while argv[i] do
    local a = argv[i]
    if a == "-" or a == "--" then return argv[i + 1] == nil end
    if a == "--rcfile" or a == "--init-file" or a == "-o" or a == "+o" or a == "-O"
        or a == "+O" then
      i = i + 1
    elseif tapio.startswith(a, "--") then
      -- --login, --norc, --noprofile, --posix: still interactive
    elseif a:find("^[-+]") then
      if a:find("c", 2, true) then
        return argv[i + 1] ~= nil and command_is_shell(argv[i + 1])
      end
    else
      return false -- a script operand
    end
    i = i + 1
  end
  return true
end)

-- An exec of a shell or an interpreter that takes its program from its
-- input: `curl ... | sh`, `| python3`, `| perl -`.
macro("reads_program_from_input", function(e)
  if interactive_shell(e) then return true end
  if e.ret ~= 0 then return false end
  local name = tapio.basename(e.filename) or ""
  if not (INTERPRETERS[name] or INTERPRETERS[name:match("^(%a+)") or ""]) then return false end
  local argv = e.argv
  for i = 2, #argv do
    local a = argv[i]
    if a == "-" then return true end
    if not tapio.startswith(a, "-") or a == "-c" or a == "-e" or a == "-E" or a == "-r"
        or a == "-m" then
      return false -- a script, inline code or a module
    end
  end
  return true
end)

-- The process a command was started from, looking through wrappers that
-- only run the next program (timeout, nice, env, sudo...): the shell or
-- script behind `timeout 5 ssh host`.
macro("session_pid", function(e)
  local p = e.parent
  if p ~= nil and WRAPPERS[p.comm] then
    local a = e.ancestors
    local g = a and a[1]
    if g ~= nil and g.pid ~= nil then return g.pid end
  end
  return e.ppid
end)

-- Two programs of one pipeline: a source (a network client, a decoder)
-- and a program reader (reads_program_from_input). Proof when the kernel
-- gives it: the source's stdout_pipe is the reader's stdin_pipe, whoever
-- started them (`curl ... | sudo sh` too) and however late the reader was
-- forked. Otherwise: children of one parent alive at the same time. A
-- source may be done before the reader's exec (`echo ... | base64 -d |
-- sh`): the reader still counts when it was forked (e.started, from the
-- process table) before the source ended; `nc -z host 22; python3 -` does
-- not. Call from a rule on process.exec and process.exit with the rule's
-- state s = { src, run, ended, member, pipe = tapio.map {...} } (pipe:
-- pipe inode -> the source's pid, or minus the reader's) and
-- is_source(e, name) for the source side; true on the exec that completes
-- a pair. Forks need no Lua call: the enrichment keeps each process's
-- start; nor do the exits of processes that are no member (members are
-- keyed by process: give the rule recall = { ["process.exit"] = "member" }).
local function pipe_pair(s, ino, pid, sign)
  if ino == nil or s.pipe == nil then return false end
  local other = s.pipe:get(ino)
  if other ~= nil and other * sign < 0 and other ~= -pid * sign then return true end
  if other == nil then s.pipe:set(ino, pid * sign) end
  return false
end

macro("pipeline_pair", function(e, s, is_source)
  if e.type == "process.exit" then
    -- most exits never get here: the rule's recall = { ["process.exit"] =
    -- "member" } lets through only those of a member
    if s.member:get(e) == nil then return false end
    s.member:set(e, nil)
    local parent = tapio.process(e.ppid)
    if s.src:get(parent) == e.pid then s.ended:set(parent, e.ts) end
    if s.run:get(parent) == e.pid then s.run:set(parent, nil) end
    return false
  end
  if e.ret ~= 0 then return false end
  -- two processes: a client that execs a shell itself (nc -e) is no pipe
  if is_source(e, tapio.basename(e.filename)) then
    local parent = tapio.process(e.ppid)
    s.src:set(parent, e.pid)
    s.ended:set(parent, nil)
    s.member:set(e, true)
    if pipe_pair(s, e.stdout_pipe, e.pid, 1) then return true end
    local other = s.run:get(parent)
    return other ~= nil and other ~= e.pid
  end
  if not reads_program_from_input(e) then return false end
  local parent = tapio.process(e.ppid)
  s.run:set(parent, e.pid)
  s.member:set(e, true)
  if pipe_pair(s, e.stdin_pipe, e.pid, -1) then return true end
  local src = s.src:get(parent)
  if src == nil or src == e.pid then return false end
  local ended = s.ended:get(parent)
  if ended == nil then return true end -- the source still runs
  local born = e.started
  return born ~= nil and born < ended
end)

-- A debugger or tracer of the MEMORY_TOOLS list (the system's copy) run by
-- a user other than root: the kernel lets it touch only that user's own
-- processes (ptrace access mode checks), so it is a developer debugging
-- their own program. Root's debuggers reach every process and still count.
macro("debugger_on_own_processes", function(e)
  if e.uid == 0 or not MEMORY_TOOLS[e.comm] then return false end
  local exe = e.exe
  return exe == nil or tapio.startswith_any(exe, SYSTEM_BIN_DIRS)
end)

-- An LD_PRELOAD value that names only a library preloaded by design
-- (PRELOAD_EXPECTED: fakeroot, eatmydata, valgrind...).
macro("preload_expected", function(v)
  for _, x in ipairs(PRELOAD_EXPECTED) do
    if tapio.contains(v, x) then return true end
  end
  return false
end)
