-- tapio: helpers for rules, filters and configs. Every VM has them as the
-- read-only global `tapio`. No access to anything outside the VM. The
-- helpers rules call on every event are in C (src/lua/tapio_lib.c), passed
-- in as this chunk's argument: they neither allocate nor backtrack.
local C = ...
local tapio = {}

local sub = string.sub

-- A lookup set from a list: tapio.set{"bash", "sh"}["sh"] == true
function tapio.set(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

-- One set of every member of the given sets:
-- tapio.union(tapio.set{"a"}, tapio.set{"b"})["b"] == true. A match takes
-- it as one list: one look-up in C where one_of would try each set.
function tapio.union(...)
  local s = {}
  for i = 1, select("#", ...) do
    local set, ok = select(i, ...), false
    if type(set) == "table" then
      ok = true
      for k, v in pairs(set) do
        if v ~= true then ok = false break end
        s[k] = true
      end
    end
    if not ok then
      error(("tapio.union: argument %d is not a set (make it with tapio.set)"):format(i), 2)
    end
  end
  return s
end

-- "/usr/bin/curl" -> "curl"; nil stays nil.
tapio.basename = C.basename

-- "/usr/bin/curl" -> "/usr/bin"; "curl" -> "."
function tapio.dirname(path)
  if path == nil then return nil end
  local d = path:match("^(.*[^/])/+[^/]*/*$")
  if d then return d end
  if sub(path, 1, 1) == "/" then return "/" end
  return "."
end

-- Prefix, suffix and plain substring tests; nil is never a match.
tapio.startswith = C.startswith
tapio.endswith = C.endswith
tapio.contains = C.contains
-- True when s starts with one of the prefixes in list.
tapio.startswith_any = C.startswith_any

-- State that rules keep between events, in C and bounded (declared in a
-- rule's state table; see rules/README.md):
--   tapio.counter { window = "30s" }       events per key in a sliding window
--   tapio.distinct { window = "5m" }       distinct values per key in a window
--   tapio.sequence { "a", "b", within = "2m" }   steps in order per key
--   tapio.map { ttl = "10m" }              a value per key with a time to live
-- tapio.process(pid) is a key that is a process (dropped when it exits).
tapio.counter = C.counter
tapio.distinct = C.distinct
tapio.sequence = C.sequence
tapio.map = C.map
tapio.process = C.process

-- Severity names, from the least to the most severe.
tapio.severities = { "debug", "info", "notice", "warning", "error", "critical" }

return tapio
