-- The table of shipped rules in rules/README.md, generated from the rule
-- files themselves so it cannot go stale.
--
--   lua5.4 scripts/rules_table.lua RULES_DIR            print the table
--   lua5.4 scripts/rules_table.lua RULES_DIR --write    rewrite it in RULES_DIR/README.md
--   lua5.4 scripts/rules_table.lua RULES_DIR --check    exit 1 when README.md differs
--
-- Each rule file runs with the rule-file globals (rule, filter, enrich,
-- score and the tapio helpers) replaced by recorders: only the rules'
-- declared metadata is read, no event is made.

local dir, mode = arg[1], arg[2]
if not dir then
  io.stderr:write("usage: lua5.4 rules_table.lua RULES_DIR [--write|--check]\n")
  os.exit(2)
end

-- Tactic of each file, in ATT&CK's order.
local TACTICS = {
  { "default", "default rules", "rules/default" },
  { "credential_access", "Credential access (TA0006)" },
  { "persistence", "Persistence (TA0003)" },
  { "privilege_escalation", "Privilege escalation (TA0004)" },
  { "container_escape", "Privilege escalation: escape to host (T1611)" },
  { "defense_evasion", "Defense evasion (TA0005)" },
  { "execution", "Execution (TA0002)" },
  { "discovery", "Discovery (TA0007)" },
  { "lateral_movement", "Lateral movement (TA0008)" },
  { "collection", "Collection (TA0009)" },
  { "exfiltration", "Exfiltration (TA0010)" },
  { "command_and_control", "Command and control (TA0011)" },
  { "impact", "Impact (TA0040)" },
}

-- The tapio library as rule files see it, in plain Lua.
local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
local function startswith(s, p) return s ~= nil and s:sub(1, #p) == p end
local tapio = {
  set = set,
  basename = function(p) return p and (p:match("([^/]*)/*$")) end,
  dirname = function(p) return p and (p:match("^(.*[^/])/+[^/]*/*$") or "/") end,
  startswith = startswith,
  endswith = function(s, x) return s ~= nil and (x == "" or s:sub(-#x) == x) end,
  contains = function(s, x) return s ~= nil and s:find(x, 1, true) ~= nil end,
  startswith_any = function(s, l)
    for _, p in ipairs(l) do if startswith(s, p) then return true end end
    return false
  end,
  severities = { "debug", "info", "notice", "warning", "error", "critical" },
}
-- State constructors and anything else the engine adds: inert values.
setmetatable(tapio, { __index = function() return function() return {} end end })

local rules = {}
local current
-- The shared lists (rules/lib), as rule files see them: a list and a set
-- in one table, by name.
local lists = setmetatable({}, { __index = _G })
local function list(name, l)
  local t = {}
  for i, v in ipairs(l) do t[i] = v; t[v] = true end
  lists[name] = t
  return t
end

local function load_file(path)
  local env = setmetatable({
    tapio = tapio,
    rule = function(t)
      rules[#rules + 1] = { file = current, name = t.name, desc = t.desc or "",
                            severity = t.severity or "warning", tags = t.tags or {},
                            events = t.events or {} }
    end,
    filter = function() end, enrich = function() end, score = function() end,
    list = list, macro = function() end,
    append = function() end, exception = function() end, override = function() end,
  }, { __index = lists })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then error(err) end
  chunk()
end

local function files_in(sub)
  local p = io.popen('ls "' .. dir .. '/' .. sub .. '" 2>/dev/null')
  local out = {}
  for f in p:lines() do
    if f:match("%.lua$") then out[#out + 1] = f end
  end
  p:close()
  table.sort(out)
  return out
end

current = "lib/lists.lua"
load_file(dir .. "/lib/lists.lua")
rules = {}
for _, sub in ipairs({ "default", "security" }) do
  for _, f in ipairs(files_in(sub)) do
    current = sub .. "/" .. f
    load_file(dir .. "/" .. current)
  end
end

local function tactic_of(file)
  local base = file:match("([^/]+)%.lua$")
  if file:match("^default/") then return "default" end
  return base
end

-- The first sentence of a description, for the table.
local function summary(desc)
  local s = desc:match("^(.-[^%.]%.)%s") or desc
  s = s:gsub("%.$", "")
  return (s:gsub("|", "\\|"))
end

local function mitre(tags)
  local out = {}
  for _, t in ipairs(tags) do
    local id = t:match("^mitre:(.+)$")
    if id then out[#out + 1] = id end
  end
  return table.concat(out, " ")
end

local lines = {}
local function add(s) lines[#lines + 1] = s end
local counts, total = {}, 0
for _, r in ipairs(rules) do
  local t = tactic_of(r.file)
  counts[t] = (counts[t] or 0) + 1
  total = total + 1
end
add("| tactic (file) | rules |")
add("|---|---|")
for _, t in ipairs(TACTICS) do
  if counts[t[1]] then
    add(string.format("| %s | %d |", t[2], counts[t[1]]))
  end
end
add(string.format("| all | %d |", total))
for _, t in ipairs(TACTICS) do
  if counts[t[1]] then
    add("")
    add(string.format("#### %s: `%s`", t[2], t[3] or ("rules/security/" .. t[1] .. ".lua")))
    add("")
    add("| rule | severity | ATT&CK | what |")
    add("|---|---|---|---|")
    for _, r in ipairs(rules) do
      if tactic_of(r.file) == t[1] then
        add(string.format("| `%s` | %s | %s | %s |", r.name, r.severity, mitre(r.tags),
                          summary(r.desc)))
      end
    end
  end
end
for _, r in ipairs(rules) do
  local known = false
  for _, t in ipairs(TACTICS) do if t[1] == tactic_of(r.file) then known = true end end
  if not known then
    io.stderr:write(r.file .. ": not a tactic this table knows; add it to TACTICS\n")
    os.exit(1)
  end
end
local table_text = table.concat(lines, "\n") .. "\n"

if not mode then
  io.write(table_text)
  os.exit(0)
end

local BEGIN, END = "<!-- rules-table:begin -->\n", "<!-- rules-table:end -->"
local readme = dir .. "/README.md"
local f = assert(io.open(readme))
local text = f:read("a")
f:close()
local a = text:find(BEGIN, 1, true)
local b = text:find(END, 1, true)
if not a or not b then
  io.stderr:write(readme .. ": no " .. BEGIN:sub(1, -2) .. " ... " .. END .. " section\n")
  os.exit(1)
end
local new = text:sub(1, a + #BEGIN - 1) .. table_text .. text:sub(b)
if mode == "--check" then
  if new ~= text then
    io.stderr:write(readme .. ": the table of shipped rules is out of date; run "
                    .. "lua5.4 scripts/rules_table.lua rules --write\n")
    os.exit(1)
  end
  os.exit(0)
elseif mode == "--write" then
  f = assert(io.open(readme, "w"))
  f:write(new)
  f:close()
else
  io.stderr:write("unknown mode " .. mode .. "\n")
  os.exit(2)
end
