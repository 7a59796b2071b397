"""A reader for Windows registration-entries (.reg) files, written for the tests from
Microsoft's description of the format (KB 310516, "How to add, modify, or delete registry
subkeys and values by using a .reg file"):

- the first line is "Windows Registry Editor Version 5.00" (UTF-16LE with a byte order mark,
  as regedit writes it; UTF-8 with a BOM is read too) or "REGEDIT4" (ANSI);
- "[KEY]" opens a key (created when missing), "[-KEY]" deletes a key and its subkeys;
- under a key, '"name"=DATA' or '@=DATA' (the default value) sets a value, '"name"=-' deletes
  it; DATA is "string" (REG_SZ, with \\ and \" escapes), dword:XXXXXXXX (REG_DWORD), hex:..
  (REG_BINARY) or hex(N):.. (REG_EXPAND_SZ 2, REG_MULTI_SZ 7, REG_QWORD b, REG_NONE 0, ...),
  the hex bytes comma-separated and continued on the next line after a trailing backslash;
- lines starting with ';' are comments; blank lines separate keys.

parse(data) returns a RegFile whose ops list the operations in order; RegFile.apply(reg)
plays them on a dict standing in for the registry. Anything else raises RegError with the
line number.
"""
import re

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"
HEX_KINDS = {0: "REG_NONE", 1: "REG_SZ", 2: "REG_EXPAND_SZ", 3: "REG_BINARY", 4: "REG_DWORD",
             7: "REG_MULTI_SZ", 0xB: "REG_QWORD"}
ROOTS = ("HKEY_CURRENT_USER", "HKEY_LOCAL_MACHINE", "HKEY_USERS", "HKEY_CLASSES_ROOT",
         "HKEY_CURRENT_CONFIG")


class RegError(ValueError):
    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}")
        self.line = line


class RegFile:
    def __init__(self, encoding, header, ops, line_ends):
        self.encoding = encoding      # "utf-16-le", "utf-8" or "ascii"
        self.header = header
        self.ops = ops                # ("delete-key", key) | ("key", key)
                                      # | ("set", key, name, kind, data) | ("delete", key, name)
        self.line_ends = line_ends    # the set of line ends seen: {"\r\n"} for regedit's files

    def apply(self, reg=None):
        """Plays the operations on `reg` ({key: {name: (kind, data)}}, names and keys compared
        case-insensitively as Windows does) and returns it."""
        reg = {} if reg is None else reg

        def find(d, name):
            for k in d:
                if k.lower() == name.lower():
                    return k
            return None

        for op in self.ops:
            if op[0] == "delete-key":
                gone = op[1].lower()
                for k in [k for k in reg if k.lower() == gone or k.lower().startswith(gone + "\\")]:
                    del reg[k]
            elif op[0] == "key":
                if find(reg, op[1]) is None:
                    reg[op[1]] = {}
            elif op[0] == "set":
                values = reg[find(reg, op[1])]
                old = find(values, op[2])
                if old is not None:
                    del values[old]
                values[op[2]] = (op[3], op[4])
            elif op[0] == "delete":
                key = find(reg, op[1])
                if key is not None:
                    old = find(reg[key], op[2])
                    if old is not None:
                        del reg[key][old]
        return reg


def _decode(data):
    if data.startswith(b"\xff\xfe"):
        return "utf-16-le", data[2:].decode("utf-16-le")
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", data[3:].decode("utf-8")
    return "ascii", data.decode("ascii")


def _quoted(text, at, line):
    """The string starting with the quote at text[at]: (value, index after the closing quote)."""
    out = []
    i = at + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '\\"':
                raise RegError(line, f"unknown escape in a string: {text[i:i + 2]!r}")
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise RegError(line, "a string without its closing quote")


def _hex_bytes(text, line):
    text = text.strip()
    if text == "":
        return b""
    parts = [p.strip() for p in text.split(",")]
    if parts and parts[-1] == "":
        parts.pop()  # regedit ends continued lines with ",\"
    out = bytearray()
    for p in parts:
        if not re.fullmatch(r"[0-9a-fA-F]{2}", p):
            raise RegError(line, f"not a hex byte: {p!r}")
        out.append(int(p, 16))
    return bytes(out)


def _data(text, line, v5):
    if text == "-":
        return None, None
    if text.startswith('"'):
        value, end = _quoted(text, 0, line)
        if text[end:].strip():
            raise RegError(line, f"text after the string: {text[end:]!r}")
        return "REG_SZ", value
    m = re.fullmatch(r"dword:([0-9a-fA-F]{1,8})", text)
    if m:
        return "REG_DWORD", int(m.group(1), 16)
    m = re.fullmatch(r"hex(?:\(([0-9a-fA-F]{1,8})\))?:(.*)", text)
    if not m:
        raise RegError(line, f"not a value: {text!r}")
    kind = int(m.group(1), 16) if m.group(1) is not None else 3
    raw = _hex_bytes(m.group(2), line)
    name = HEX_KINDS.get(kind, f"hex({kind:x})")
    enc = "utf-16-le" if v5 else "latin-1"
    if kind == 2:
        return name, raw.decode(enc).rstrip("\0")
    if kind == 7:
        return name, [s for s in raw.decode(enc).split("\0") if s]
    if kind == 0xB:
        if len(raw) != 8:
            raise RegError(line, "a REG_QWORD takes 8 bytes")
        return name, int.from_bytes(raw, "little")
    if kind == 4:
        if len(raw) != 4:
            raise RegError(line, "a REG_DWORD takes 4 bytes")
        return name, int.from_bytes(raw, "little")
    return name, raw


def _logical_lines(text):
    """(line number, text) with backslash-continued lines joined, line ends and leading
    indentation of continuations removed; also the set of line ends seen."""
    ends = set(re.findall(r"\r\n|\r|\n", text))
    physical = re.split(r"\r\n|\n|\r", text)
    out = []
    i = 0
    while i < len(physical):
        start = i + 1
        cur = physical[i]
        while cur.endswith("\\") and not cur.lstrip().startswith(";") and \
                not cur.lstrip().startswith("[") and i + 1 < len(physical):
            i += 1
            cur = cur[:-1] + physical[i].lstrip()
        out.append((start, cur))
        i += 1
    return out, ends


def parse(data):
    encoding, text = _decode(data)
    lines, ends = _logical_lines(text)
    if not lines or lines[0][1] not in (HEADER_V5, HEADER_V4):
        raise RegError(1, f"the first line is not {HEADER_V5!r} or {HEADER_V4!r}")
    header = lines[0][1]
    v5 = header == HEADER_V5
    if v5 and encoding == "ascii":
        raise RegError(1, "a version 5.00 file without a byte order mark")
    ops = []
    key = None
    for number, line in lines[1:]:
        stripped = line.strip()
        if stripped == "" or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise RegError(number, "a key line without its closing bracket")
            name = stripped[1:-1]
            delete = name.startswith("-")
            name = name[1:] if delete else name
            if name.split("\\", 1)[0] not in ROOTS or name.endswith("\\") or "\\\\" in name:
                raise RegError(number, f"not a registry key: {name!r}")
            if delete:
                ops.append(("delete-key", name))
                key = None
            else:
                ops.append(("key", name))
                key = name
            continue
        if key is None:
            raise RegError(number, "a value outside a key (or under a deleted key)")
        if line.startswith("@="):
            vname, rest = "", line[2:]
        elif line.startswith('"'):
            vname, end = _quoted(line, 0, number)
            if line[end:end + 1] != "=":
                raise RegError(number, "a value name without '='")
            rest = line[end + 1:]
        else:
            raise RegError(number, f"neither a key, a value nor a comment: {line!r}")
        kind, value = _data(rest.strip(), number, v5)
        if kind is None:
            ops.append(("delete", key, vname))
        else:
            ops.append(("set", key, vname, kind, value))
    return RegFile(encoding, header, ops, ends)
