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
