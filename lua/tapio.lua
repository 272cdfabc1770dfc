-- tapio: helpers for rules, filters and configs. Every VM has them as the
-- read-only global `tapio`. Plain Lua, no access to anything outside the VM.
local tapio = {}

local find, sub = string.find, string.sub

-- A lookup set from a list: tapio.set{"bash", "sh"}["sh"] == true
function tapio.set(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

-- "/usr/bin/curl" -> "curl"; nil stays nil.
function tapio.basename(path)
  if path == nil then return nil end
  return (path:match("([^/]*)/*$"))
end

-- "/usr/bin/curl" -> "/usr/bin"; "curl" -> "."
function tapio.dirname(path)
  if path == nil then return nil end
  local d = path:match("^(.*[^/])/+[^/]*/*$")
  if d then return d end
  if sub(path, 1, 1) == "/" then return "/" end
  return "."
end

function tapio.startswith(s, prefix)
  return s ~= nil and sub(s, 1, #prefix) == prefix
end

function tapio.endswith(s, suffix)
  return s ~= nil and (suffix == "" or sub(s, -#suffix) == suffix)
end

-- Plain substring test (no patterns).
function tapio.contains(s, needle)
  return s ~= nil and find(s, needle, 1, true) ~= nil
end

-- True when s starts with one of the prefixes in list.
function tapio.startswith_any(s, list)
  if s == nil then return false end
  for _, p in ipairs(list) do
    if sub(s, 1, #p) == p then return true end
  end
  return false
end

-- Severity names in increasing order, and their rank.
tapio.severities = { "debug", "info", "notice", "warning", "error", "critical" }

return tapio
